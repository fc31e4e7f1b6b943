/**
 * Link parameters: one typed config; the RTL, the host and the docs derive everything from it.
 * The UART divisor comes from the board clock (clockHz / baud). The virtual board may override it with a
 * small `simClocksPerBit` so that simulating a UART stays cheap (docs/protocol.md#virtual-board).
 */
import { ConfigError, clog2, requireInt, requirePow2 } from '../util/errors';
import { CRC_BYTES, REQ_HEADER } from './protocol';

export interface LinkParams {
  /** Board clock in Hz. */
  clockHz?: number;
  /** Line rate in bit/s. */
  baud?: number;
  /** Virtual board only: clocks per UART bit, replacing clockHz/baud. */
  simClocksPerBit?: number;
  /** Largest request/response payload in bytes (after the header). */
  maxPayload?: number;
  /** Reorder buffer in bytes: maxFrames slots of rxFifoBytes / maxFrames bytes (the longest request body). */
  rxFifoBytes?: number;
  /** Slots of the reorder buffer: the selective-repeat window in frames (docs/protocol.md#reliability). */
  maxFrames?: number;
}

export const LINK_DEFAULTS = { clockHz: 100_000_000, baud: 115_200, maxPayload: 256, rxFifoBytes: 2048, maxFrames: 16 } as const;

export interface LinkConfig {
  clockHz: number;
  baud: number;
  /** Clocks per UART bit actually used by the RTL. */
  clocksPerBit: number;
  /** True when clocksPerBit is the virtual-board override rather than clockHz/baud. */
  simulated: boolean;
  /** |actual - wanted| / wanted line rate (only meaningful for a real board). */
  baudError: number;
  maxPayload: number;
  rxFifoBytes: number;
  fifoAddrBits: number;
  maxFrames: number;
  /** Bytes per reorder slot (rxFifoBytes / maxFrames): the longest request body the device accepts. */
  slotBytes: number;
  frameCountBits: number;
  /** Largest unstuffed frame: header + payload + CRC. */
  maxFrameBytes: number;
  /** Bits of a frame length counter. */
  lenBits: number;
}

/**
 * The UART divisor for a board: clocks per bit = round(clockHz / baud), at least 4, with at most 2% rate error.
 * The one rule for every UART lutforge generates (the link and the shell's stream bridge).
 */
export function uartClocksPerBit(clockHz: number, baud: number): number {
  const clocksPerBit = Math.round(clockHz / baud);
  if (clocksPerBit < 4) throw new ConfigError('baud', `needs at least 4 clocks per bit at clockHz=${clockHz}`, baud);
  const baudError = Math.abs(clockHz / clocksPerBit - baud) / baud;
  if (baudError > 0.02) throw new ConfigError('baud', `clockHz/baud gives ${(100 * baudError).toFixed(2)}% rate error (> 2%)`, baud);
  return clocksPerBit;
}

export function linkConfig(p: LinkParams = {}): LinkConfig {
  const clockHz = p.clockHz ?? LINK_DEFAULTS.clockHz;
  const baud = p.baud ?? LINK_DEFAULTS.baud;
  requireInt('clockHz', clockHz, 1_000_000, 1_000_000_000);
  requireInt('baud', baud, 300, 12_000_000);
  const maxPayload = p.maxPayload ?? LINK_DEFAULTS.maxPayload;
  requireInt('maxPayload', maxPayload, 16, 4096);
  if (maxPayload % 4) throw new ConfigError('maxPayload', 'must be a multiple of 4 (memory words)', maxPayload);
  const rxFifoBytes = p.rxFifoBytes ?? LINK_DEFAULTS.rxFifoBytes;
  requirePow2('rxFifoBytes', rxFifoBytes);
  const maxFrameBytes = REQ_HEADER + maxPayload + CRC_BYTES;
  const maxFrames = p.maxFrames ?? LINK_DEFAULTS.maxFrames;
  requirePow2('maxFrames', maxFrames);
  if (maxFrames < 2 || maxFrames > 64) throw new ConfigError('maxFrames', 'must be 2..64 (selective-repeat window; seqs are 8 bits)', maxFrames);
  const slotBytes = rxFifoBytes / maxFrames;
  if (slotBytes < 32) throw new ConfigError('rxFifoBytes', `gives ${slotBytes}-byte reorder slots for ${maxFrames} frames; needs >= 32 (rxFifoBytes >= ${32 * maxFrames})`, rxFifoBytes);
  let clocksPerBit: number;
  let simulated = false;
  if (p.simClocksPerBit !== undefined) {
    requireInt('simClocksPerBit', p.simClocksPerBit, 4, 1 << 16);
    clocksPerBit = p.simClocksPerBit;
    simulated = true;
  } else {
    clocksPerBit = uartClocksPerBit(clockHz, baud);
  }
  const baudError = simulated ? 0 : Math.abs(clockHz / clocksPerBit - baud) / baud;
  return {
    clockHz,
    baud,
    clocksPerBit,
    simulated,
    baudError,
    maxPayload,
    rxFifoBytes,
    fifoAddrBits: clog2(rxFifoBytes),
    maxFrames,
    slotBytes,
    frameCountBits: clog2(maxFrames),
    maxFrameBytes,
    lenBits: clog2(maxFrameBytes + 1) + 1,
  };
}
