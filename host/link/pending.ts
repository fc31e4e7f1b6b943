/** What the link keeps per request, and its options and counters (host/link/link.ts). */
import { REQ, STATUS_TEXT } from '../../generator/link/protocol';
import { TransportError } from './transport';

export interface LinkOptions {
  /** Base retransmission timeout in ms (default: derived from the line rate and the window). */
  rtoMs?: number;
  /** Retransmission rounds without progress before the link gives up. */
  maxRetries?: number;
  /** Bytes not yet known to have arrived, in round trips of the line plus a frame (default 4). */
  lineCapScale?: number;
  /** Cap on frames in flight (default: from the device). */
  windowFrames?: number;
  /** Besides maxRetries rounds, the link gives up only after this long without progress (ms, default 10000: a loaded simulator may pause). */
  giveUpMs?: number;
}

export interface Response {
  status: number;
  payload: Uint8Array;
}

export interface Pending {
  type: number;
  body: Uint8Array;
  wire: Uint8Array;
  exclusive: boolean;
  seq: number;
  /** Last transmission (ms) and the first one with the current seq (a held copy proves everything sent before it arrived). */
  sentAt: number;
  firstSentAt?: number;
  tries?: number;
  /** The device's last NAK bitmap says it holds this frame in its reorder buffer. */
  held?: boolean;
  /** Sent after a frame that was later resent (or before a barrier): its round trip is not a clean sample. */
  behindLoss?: boolean;
  resolve: (r: Response) => void;
  reject: (e: Error) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
  order: number;
  resume: boolean;
  /** Fragments of one request share its promise: it settles when the last one is acknowledged. */
  group?: { left: number; failed: boolean };
}

export interface LinkStats {
  framesSent: number;
  /** Selective resend rounds (NAK driven) plus SYNC barriers (timeouts). */
  retransmitRounds: number;
  /** NAK-driven rounds that resent only the frames known lost. */
  selectiveRounds: number;
  syncs: number;
  /** Non-blocking SYNC probes (answered by a NAK with the held bitmap; nothing stops meanwhile). */
  probes: number;
  framesRetransmitted: number;
  naks: number;
  busy: number;
  bytesSent: number;
  bytesReceived: number;
}

export const TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(REQ).map(([k, v]) => [v, k]));

/** Requests that return data: sent alone, acknowledged only by their own response. */
export function isExclusive(type: number): boolean {
  return type === REQ.HELLO || type === REQ.REG_READ || type === REQ.MEM_READ || type === REQ.STREAM_READ;
}

export function isRead(p: Pending): boolean {
  return p.type === REQ.REG_READ || p.type === REQ.MEM_READ || p.type === REQ.STREAM_READ;
}

/** Resolves or rejects a request; fragments share their request's promise, which settles with the last of them. */
export function settle(p: Pending, r: Response, link: string): void {
  if (p.group) {
    if (p.group.failed) return;
    if (r.status !== 0) p.group.failed = true;
    else if (--p.group.left > 0) return;
  }
  if (p.onAbort) p.signal?.removeEventListener('abort', p.onAbort);
  if (r.status !== 0) p.reject(new Error(`link ${link}: device refused ${TYPE_NAMES[p.type] ?? p.type}: ${STATUS_TEXT[r.status] ?? `status ${r.status}`}`));
  else p.resolve(r);
}

/** The error of a request whose AbortSignal fired. */
export function abortError(p: Pending, transport: string, rounds: number): Error {
  const why = p.signal?.reason instanceof Error && p.signal.reason.name !== 'TimeoutError' && p.signal.reason.name !== 'AbortError' ? `: ${p.signal.reason.message}` : '';
  const at = p.seq >= 0 ? ` (seq ${p.seq}, ${rounds} retransmission round(s))` : ' (never sent: window full)';
  return new TransportError(transport, `device did not answer ${TYPE_NAMES[p.type] ?? p.type}${at} before the deadline${why}; is the board running this design?`);
}
