/**
 * Selective-repeat bookkeeping of the host link (docs/protocol.md#reliability): reading a NAK, marking what the
 * device holds, deciding what was lost and what may still be on the line. Pure functions over the frames in flight.
 */
import { NAK_FIXED_BYTES } from '../../generator/link/protocol';
import { splittable } from './fragment';
import { isExclusive, type Pending } from './pending';

export interface Nak {
  expected: number;
  stalled: boolean;
  stallSeq: number;
  /** The request that drew it (type NAK_HOLE: a hole report for the frame filed ahead). */
  echo: { type: number; seq: number } | null;
  /** Bit k: the frame with seq expected + k is held (empty from a device before revision 3). */
  held: Uint8Array;
}

export function parseNak(f: Uint8Array): Nak {
  return {
    expected: f[1]!,
    stalled: f.length >= 4 && f[2] !== 0,
    stallSeq: f[3] ?? 0,
    echo: f.length >= NAK_FIXED_BYTES ? { type: f[4]!, seq: f[5]! } : null,
    held: f.subarray(NAK_FIXED_BYTES),
  };
}

/** Marks the frames the device holds; returns the latest first transmission among them (-Infinity if none). */
export function markHeld(flight: readonly Pending[], expected: number, held: Uint8Array): number {
  let t = -Infinity;
  for (const p of flight) {
    const k = (p.seq - expected) & 0xff;
    p.held = !p.exclusive && k < 8 * held.length && ((held[k >> 3]! >> (k & 7)) & 1) === 1;
    if (p.held) t = Math.max(t, p.firstSentAt ?? p.sentAt);
  }
  return t;
}

/** Bytes arrive in order: a frame still missing whose last copy went out before something that arrived was lost. */
export function lostFrames(flight: readonly Pending[], arrivedAfter: number): Pending[] {
  return flight.filter((p) => !p.held && !p.exclusive && p.sentAt < arrivedAfter);
}

/** Frames sent after the latest copy known to have arrived, and not held: what may still be on the line. */
export function unconfirmedBytes(flight: readonly Pending[], arrivedUpTo: number): number {
  return flight.reduce((s, p) => s + (p.held || p.sentAt <= arrivedUpTo ? 0 : p.wire.length), 0);
}

/** A frame that keeps getting lost and is much longer than the current chunk: worth a barrier to split it. */
export function tooBig(p: Pending, chunk: number): boolean {
  return (p.tries ?? 1) >= 3 && splittable(p) && p.body.length > 1.5 * chunk + 4;
}

/** A request of the link's own (no caller waits for it), e.g. the HELLO that empties the reorder buffer. */
export function internalRequest(type: number): Pending {
  const noop = (): void => undefined;
  return { type, body: new Uint8Array(0), wire: new Uint8Array(0), exclusive: isExclusive(type), seq: -1, sentAt: 0, resolve: noop, reject: noop, order: -1, resume: false };
}
