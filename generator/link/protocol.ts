/**
 * Constants of the lutforge link protocol, shared by the RTL generator and the host (docs/protocol.md).
 * One source of truth: the RTL and the TS twin both read these.
 */

/** Frame delimiter; never appears inside a frame after stuffing. */
export const FLAG = 0x7e;
/** Escape: the next byte is XORed with ESC_XOR. */
export const ESC = 0x7d;
export const ESC_XOR = 0x20;

/** Request types (host -> device), byte 0 of a frame. */
export const REQ = {
  HELLO: 0x01,
  REG_WRITE: 0x02,
  REG_READ: 0x03,
  MEM_WRITE: 0x04,
  MEM_READ: 0x05,
  STREAM_WRITE: 0x06,
  STREAM_READ: 0x07,
  /** Executes nothing and is always answered by a NAK echoing its type and seq (a barrier, docs/protocol.md#reliability). */
  SYNC: 0x08,
} as const;
export type ReqType = (typeof REQ)[keyof typeof REQ];

/** Response types (device -> host). RESP = request type | 0x80. */
export const RESP_BIT = 0x80;
export const NAK = 0xff;

/** Status byte of a response. */
export const STATUS = { OK: 0, BAD_REQUEST: 1, BAD_TARGET: 2, BUSY: 3 } as const;
/**
 * Request type bit 6: RESUME. After a BUSY the device answers every non-read request with BUSY until one carries
 * RESUME, so the host can resend the bounced requests in their original order (docs/protocol.md#flow-control).
 */
export const RESUME_BIT = 0x40;
export const STATUS_TEXT: Record<number, string> = { 0: 'ok', 1: 'bad request (type or length)', 2: 'bad target (register, channel or memory missing)', 3: 'busy (channel FIFO full)' };

/** Header sizes (bytes before the payload). Request: type, seq. Response: type, seq, status. */
export const REQ_HEADER = 2;
export const RESP_HEADER = 3;
export const CRC_BYTES = 4;

/**
 * Frame check: CRC-32/BZIP2 (poly 0x04C11DB7, init 0xFFFFFFFF, no reflection, final XOR 0xFFFFFFFF), appended MSB
 * first; a good frame leaves the constant CRC_RESIDUE. Why 32 bits and a final XOR: with 1% of bytes damaged a
 * run damages thousands of frames, and a 16-bit check let about one in 65536 through (a refused "bad request"
 * or silently wrong data). Without the final XOR a good frame would leave 0, a fixed point of a 0x00 byte: a frame
 * ending in a 0x00 CRC byte stayed "good" with that byte dropped or doubled.
 */
export const CRC_BITS = 32;
export const CRC_POLY = 0x04c11db7;
export const CRC_INIT = 0xffffffff;
export const CRC_XOROUT = 0xffffffff;

export function crcUpdate(crc: number, byte: number): number {
  let c = (crc ^ (byte << 24)) >>> 0;
  for (let i = 0; i < 8; i++) c = c & 0x80000000 ? ((c << 1) ^ CRC_POLY) >>> 0 : (c << 1) >>> 0;
  return c;
}

/** The CRC register after `bytes` (no final XOR). */
export function crcRaw(bytes: ArrayLike<number>, init = CRC_INIT): number {
  let c = init >>> 0;
  for (let i = 0; i < bytes.length; i++) c = crcUpdate(c, bytes[i]!);
  return c;
}

/** The frame check value of `bytes` (final XOR applied). */
export function crc(bytes: ArrayLike<number>): number {
  return (crcRaw(bytes) ^ CRC_XOROUT) >>> 0;
}

/** The CRC bytes appended to a body, MSB first. */
export function crcBytes(body: ArrayLike<number>): number[] {
  const c = crc(body);
  return [c >>> 24, (c >>> 16) & 0xff, (c >>> 8) & 0xff, c & 0xff];
}

/** The CRC register after a good frame's body and its (XORed) CRC bytes. */
export const CRC_RESIDUE = crcRaw([0xff, 0xff, 0xff, 0xff], 0);

/** Bumped when the wire protocol changes; part of every register map's `version`. */
export const PROTOCOL_REVISION = 3;

/**
 * Protocol revision 3 (selective repeat): the device keeps out-of-order frames in a reorder buffer of maxFrames
 * slots and every NAK carries a bitmap of the slots held (bit k: seq expected + k), after the six bytes of
 * revision 2. An unsolicited NAK whose echoed type is NAK_HOLE reports a hole: a frame arrived ahead of `expected`.
 */
export const NAK_HOLE = 0x00;
export const NAK_FIXED_BYTES = 6;
/** Bytes of the held-frames bitmap that follows a NAK's fixed part. */
export function nakBitmapBytes(maxFrames: number): number {
  return Math.ceil(maxFrames / 8);
}

/** Register word width and the memory bus word. */
export const REG_BITS = 32;
export const MEM_WORD_BYTES = 4;
