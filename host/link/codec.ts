/**
 * TS twin of the frame layer (docs/protocol.md): byte stuffing, CRC, and a streaming decoder that resynchronises
 * on every FLAG. Used by the host, the fault-injection tests and the fuzzers.
 */
import { CRC_BYTES, CRC_RESIDUE, ESC, ESC_XOR, FLAG, crcBytes, crcRaw } from '../../generator/link/protocol';

/** FLAG, stuffed(body, crc32 MSB first), FLAG (docs/protocol.md#wire-format). */
export function encodeFrame(body: ArrayLike<number>): Uint8Array {
  const out: number[] = [FLAG];
  const put = (b: number): void => {
    if (b === FLAG || b === ESC) out.push(ESC, b ^ ESC_XOR);
    else out.push(b);
  };
  for (let i = 0; i < body.length; i++) put(body[i]!);
  for (const b of crcBytes(body)) put(b);
  out.push(FLAG);
  return Uint8Array.from(out);
}

export interface DecoderStats {
  frames: number;
  /** Frames dropped for a bad CRC, an abort (ESC FLAG), or being too long or too short. */
  bad: number;
  /** Bytes seen outside any frame (before the first FLAG). */
  junk: number;
}

/** Streaming decoder: feed() any byte chunks; complete good frames (body without CRC) go to onFrame. */
export class FrameDecoder {
  private buf: number[] = [];
  private inFrame = false;
  private esc = false;
  private tooLong = false;
  readonly stats: DecoderStats = { frames: 0, bad: 0, junk: 0 };

  constructor(
    private readonly onFrame: (body: Uint8Array) => void,
    /** Longest body + CRC accepted; longer frames are dropped (bounded memory whatever the input). */
    private readonly maxFrameBytes = 4096,
  ) {}

  feed(bytes: ArrayLike<number>): void {
    for (let i = 0; i < bytes.length; i++) this.byte(bytes[i]!);
  }

  private byte(b: number): void {
    if (b === FLAG) {
      if (this.inFrame && (this.buf.length > 0 || this.tooLong)) this.close();
      this.inFrame = true;
      this.esc = false;
      this.tooLong = false;
      this.buf = [];
      return;
    }
    if (!this.inFrame) {
      this.stats.junk++;
      return;
    }
    if (b === ESC && !this.esc) {
      this.esc = true;
      return;
    }
    const d = this.esc ? b ^ ESC_XOR : b;
    this.esc = false;
    if (this.tooLong) return;
    if (this.buf.length >= this.maxFrameBytes) {
      this.tooLong = true;
      this.buf = [];
      return;
    }
    this.buf.push(d);
  }

  private close(): void {
    const ok = !this.tooLong && !this.esc && this.buf.length >= 1 + CRC_BYTES && crcRaw(this.buf) === CRC_RESIDUE;
    if (!ok) {
      this.stats.bad++;
      return;
    }
    this.stats.frames++;
    this.onFrame(Uint8Array.from(this.buf.slice(0, this.buf.length - CRC_BYTES)));
  }
}
