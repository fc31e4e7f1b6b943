/**
 * Host end of the link protocol (docs/protocol.md#reliability): selective repeat over any ByteTransport.
 *
 * - Write-like requests are pipelined, at most maxFrames in flight (the device's reorder window) and at most about
 *   4 round trips of the line unconfirmed. Requests that return data are sent alone (a lost response is the
 *   device's cached one, so nothing executes twice).
 * - Responses and NAKs are cumulative acks; NAKs carry the held bitmap. A frame still missing whose last copy went out
 *   before a copy that arrived was lost: only those are resent (hole reports, probes: selective.ts).
 * - Pipelined writes never stop for a timeout: late answers draw a probe (a SYNC that stops nothing). A request sent
 *   alone, or a frame too long for the line behind held ones, gets a barrier: stop, SYNC, then renumber from
 *   `expected` (after a HELLO that empties the reorder buffer, if it held frames).
 * - Flow control: bounced requests wait in `Bounced` (stall.ts) and go again in order, the first flagged RESUME.
 * - Bulk writes are split at transmission to a chunk sized from the measured byte error rate (estimators.ts).
 * - After `maxRetries` unanswered rounds and `giveUpMs`, or when a request's AbortSignal fires, every pending
 *   request fails with a TransportError naming the transport.
 */
import { NAK, REQ, REQ_HEADER, RESP_BIT, RESP_HEADER, RESUME_BIT, STATUS } from '../../generator/link/protocol';
import { encodeFrame, FrameDecoder } from './codec';
import { LineTiming, LossEstimator } from './estimators';
import { fragments, splitOff, splittable } from './fragment';
import { TYPE_NAMES, abortError, isExclusive, isRead, settle, type LinkOptions, type LinkStats, type Pending, type Response } from './pending';
import { Bounced } from './stall';
import { internalRequest, lostFrames, markHeld, parseNak, tooBig, unconfirmedBytes, type Nak } from './selective';
import { TransportError, type ByteTransport } from './transport';

export type { LinkOptions, LinkStats, Response } from './pending';

export class Link {
  private seq = Math.floor(Math.random() * 256);
  private readonly queue: Pending[] = [];
  private readonly flight: Pending[] = [];
  private readonly decoder: FrameDecoder;
  private failed: Error | null = null;
  private timer: NodeJS.Timeout | null = null;
  private rounds = 0;
  private backoff = 1;
  private lastGoBack = { seq: -1, at: 0 };
  /** Outstanding non-blocking SYNC probe and when its answer is overdue. */
  private probe: { nonce: number; sentAt: number; due: number } | null = null;
  private lastTxAt = 0;
  private sentSinceProbe = false;
  private lastResendAt = -Infinity;
  private arrivedUpTo = -Infinity;
  private okStreak = 0;
  private orderCount = 0;
  private readonly bounced = new Bounced();
  /** Outstanding SYNC barrier (nonce = its seq byte); nothing else is sent while it is set. */
  private sync: { nonce: number; sentAt: number } | null = null;
  private syncNonce = Math.floor(Math.random() * 256);
  private readonly clock: LineTiming;
  private readonly loss = new LossEstimator();
  private lastProgress = performance.now();
  /** Device limits; conservative until HELLO + link_caps are known. */
  maxPayload = 64;
  rxFifoBytes = 512;
  maxFrames = 4;
  /** Longest request payload: a reorder slot (rxFifoBytes / maxFrames) holds a request's type, seq and payload. */
  maxRequest = 64;
  /** Suggested payload bytes per bulk request (adapts to loss). */
  chunk = 64;
  readonly stats: LinkStats = { framesSent: 0, retransmitRounds: 0, selectiveRounds: 0, syncs: 0, probes: 0, framesRetransmitted: 0, naks: 0, busy: 0, bytesSent: 0, bytesReceived: 0 };

  constructor(
    readonly transport: ByteTransport,
    private readonly opts: LinkOptions = {},
  ) {
    this.clock = new LineTiming(() => transport.baud, opts);
    this.decoder = new FrameDecoder((f) => this.onFrame(f), 8192);
    transport.onData((d) => {
      this.stats.bytesReceived += d.length;
      this.decoder.feed(d);
    });
    transport.onClose?.((e) => this.fail(e));
  }

  get name(): string {
    return this.transport.name;
  }

  /** Adopt the device's limits (from the link_caps register). */
  configure(caps: { maxPayload: number; rxFifoBytes: number; maxFrames: number }): void {
    this.maxPayload = caps.maxPayload;
    this.rxFifoBytes = caps.rxFifoBytes;
    this.maxFrames = caps.maxFrames;
    this.maxRequest = Math.min(caps.maxPayload, caps.rxFifoBytes / caps.maxFrames - REQ_HEADER);
    this.chunk = this.maxRequest;
  }

  /** Unconfirmed bytes allowed on the line: more would only queue in the transport, and a resend would wait behind it. */
  private lineCap(): number {
    return this.clock.lineCap(this.chunk + REQ_HEADER + 8);
  }

  /** How long an answer to what was just sent may take: the line time of what is unconfirmed, and the latency. */
  private answerMs(): number {
    return this.clock.answerMs(unconfirmedBytes(this.flight, this.arrivedUpTo));
  }

  /** A copy sent at t (or later) arrived: everything sent before t has arrived or was lost. */
  private arrived(t: number | undefined): void {
    if (t !== undefined && t > this.arrivedUpTo) this.arrivedUpTo = t;
  }

  /** Never below twice the line time of what is in flight and of the answers due (a paced line queues it all). */
  private rto(): number {
    const queued = this.flight.reduce((n, p) => n + p.wire.length + (p.exclusive ? this.maxPayload + 16 : 16), 0);
    return this.clock.rto(queued, this.rxFifoBytes) * this.backoff;
  }

  /** Karn, and never behind a lost frame: a frame held behind a hole would sample the hole's repair time. */
  private sampleRtt(p: Pending): void {
    if ((p.tries ?? 1) !== 1 || p.held || p.behindLoss || this.lastResendAt >= p.sentAt) return;
    this.clock.sample(performance.now() - p.sentAt, p.wire.length);
  }

  /** Sends one request; resolves with the device's response. */
  request(type: number, payload: Uint8Array, opts: { signal?: AbortSignal } = {}): Promise<Response> {
    if (this.failed) return Promise.reject(this.failed);
    if ((payload.length > this.maxPayload || (payload.length > this.maxRequest && !splittable({ type } as Pending))) && type !== REQ.HELLO)
      return Promise.reject(new Error(`link ${this.name}: request payload of ${payload.length} bytes exceeds the device's limit ${Math.min(this.maxPayload, this.maxRequest)}`));
    const exclusive = isExclusive(type);
    return new Promise<Response>((resolve, reject) => {
      const p: Pending = { type, body: payload, wire: new Uint8Array(0), exclusive, seq: -1, sentAt: 0, resolve, reject, signal: opts.signal, order: this.orderCount++, resume: false };
      if (opts.signal) {
        if (opts.signal.aborted) return reject(abortError(p, this.name, this.rounds));
        p.onAbort = () => this.fail(abortError(p, this.name, this.rounds));
        opts.signal.addEventListener('abort', p.onAbort, { once: true });
      }
      this.queue.push(p);
      this.pump();
    });
  }

  private pump(): void {
    if (this.sync) return this.arm();
    if (this.bounced.length && !this.failed) {
      const due = this.bounced.takeDue(this.flight.length === 0);
      if (due) this.queue.unshift(...due);
      else {
        // Stalled: only reads pass (they drain the device's outputs, which is what frees its inputs).
        const i = this.queue.findIndex((q) => isRead(q));
        if (i >= 0 && this.flight.length === 0) this.transmit(this.queue.splice(i, 1)[0]!);
        this.bounced.wake(() => this.pump());
        return this.arm();
      }
    }
    while (this.queue.length && !this.failed) {
      const p = this.queue[0]!;
      if (this.flight.length && (p.exclusive || this.flight[0]!.exclusive)) return;
      // At most the device's reorder window (seqs expected .. expected + maxFrames - 1).
      if (this.flight.length >= Math.min(this.opts.windowFrames ?? 64, this.maxFrames)) break;
      this.splitHead();
      if (this.flight.length && unconfirmedBytes(this.flight, this.arrivedUpTo) + this.queue[0]!.body.length > this.lineCap()) break;
      this.transmit(this.queue.shift()!);
    }
    // Resent frames and no room for more: nothing new will draw a hole report, so ask for the held bitmap.
    if (this.flight.some((p) => (p.tries ?? 1) > 1)) this.sendProbe();
    this.arm();
  }

  /** Bulk writes go out no longer than the current chunk (it shrinks on loss): split the queue head if needed. */
  private splitHead(): void {
    this.queue.splice(0, 1, ...splitOff(this.queue[0]!, this.chunk));
  }

  private transmit(p: Pending): void {
    p.seq = this.seq;
    this.seq = (this.seq + 1) & 0xff;
    const body = new Uint8Array(REQ_HEADER + p.body.length);
    body[0] = p.type | (p.resume ? RESUME_BIT : 0);
    body[1] = p.seq;
    body.set(p.body, REQ_HEADER);
    p.wire = encodeFrame(body);
    p.held = false;
    p.behindLoss = false;
    p.firstSentAt = performance.now();
    this.flight.push(p);
    this.send(p);
    this.stats.framesSent++;
  }

  /** In-flight requests from the head up to (not including) seq `until` were bounced by a stalled device. */
  private bounceBefore(until: number): void {
    while (this.flight.length && !this.flight[0]!.exclusive && this.flight[0]!.seq !== until && ((until - this.flight[0]!.seq) & 0xff) <= this.flight.length) this.bounce(this.flight.shift()!);
  }

  private bounce(p: Pending): void {
    this.stats.busy++;
    this.bounced.add(p);
    this.progress();
  }

  private send(p: Pending): void {
    this.loss.sent(p.wire.length);
    p.sentAt = performance.now();
    p.tries = (p.tries ?? 0) + 1;
    this.stats.bytesSent += p.wire.length;
    this.sentSinceProbe = true;
    this.lastTxAt = p.sentAt;
    this.write(p.wire);
  }

  private write(wire: Uint8Array): void {
    try {
      this.transport.write(wire);
    } catch (e) {
      this.fail(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private arm(): void {
    if (this.timer || (!this.flight.length && !this.sync) || this.failed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.onTimer();
    }, Math.max(1, Math.min(this.rto() / 4, this.answerMs() / 2)));
  }

  private onTimer(): void {
    if ((!this.flight.length && !this.sync) || this.failed) return;
    const now = performance.now();
    if (!this.sync && !this.flight[0]!.exclusive) {
      // Pipelined writes are never stopped: late answers draw a probe, and a lost probe (or answer) another.
      if (this.probe && now >= this.probe.due) {
        this.probe = null;
        if (!this.timeoutRound(now)) return;
      }
      const head = this.flight[0]!;
      if (tooBig(head, this.chunk) && now - head.sentAt >= this.rto() / 2) {
        this.onLoss();
        this.sendSync();
      } else if (!this.probe && now - this.lastTxAt >= this.answerMs() * this.backoff) {
        this.sentSinceProbe = true;
        this.sendProbe();
      }
      return this.arm();
    }
    const since = this.sync ? this.sync.sentAt : this.flight[0]!.sentAt;
    if (now - since >= this.rto()) {
      if (!this.timeoutRound(now)) return;
      this.onLoss();
      this.sendSync();
    }
    this.arm();
  }

  /** Counts a timeout and backs off; fails the link after maxRetries rounds and giveUpMs without progress. */
  private timeoutRound(now: number): boolean {
    this.rounds++;
    if (this.rounds > (this.opts.maxRetries ?? 24) && now - this.lastProgress >= (this.opts.giveUpMs ?? 10_000)) {
      const oldest = this.flight[0];
      const what = oldest ? `${TYPE_NAMES[oldest.type] ?? oldest.type} (seq ${oldest.seq})` : `SYNC (nonce ${this.sync?.nonce})`;
      this.fail(new TransportError(this.name, `device stopped answering: ${what} unanswered after ${this.rounds - 1} retransmissions (last timeout ${Math.round(this.rto())} ms)`));
      return false;
    }
    // Probes and their answers are short but often lost on a bad line: back off only after a few in a row.
    this.backoff = Math.min(4, 2 ** Math.max(0, this.rounds - 2));
    return true;
  }

  /**
   * A SYNC that stops nothing: its NAK carries the held bitmap as of its arrival, so every frame still missing that
   * was last sent before it is lost. At most one outstanding, and only after something was sent since the last.
   */
  private sendProbe(): void {
    if (this.sync || this.probe || !this.sentSinceProbe || !this.flight.length || this.flight[0]!.exclusive || this.failed) return;
    this.stats.probes++;
    this.syncNonce = (this.syncNonce + 1) & 0xff;
    this.probe = { nonce: this.syncNonce, sentAt: performance.now(), due: performance.now() + 2 * this.answerMs() * this.backoff };
    this.sentSinceProbe = false;
    this.writeSync(this.syncNonce);
    // On a bad line (a 20-byte answer lost more than 1 time in 10) a second copy costs less than a lost round.
    if (this.loss.byteErrorRate() > 0.005) this.writeSync(this.syncNonce);
  }

  /** Starts (or repeats) a barrier: SYNC is answered by a NAK echoing its nonce, after everything sent before it. */
  private sendSync(): void {
    this.stats.retransmitRounds++;
    this.stats.syncs++;
    this.probe = null;
    for (const q of this.flight) q.behindLoss = true;
    if (!this.sync) this.syncNonce = (this.syncNonce + 1) & 0xff;
    this.sync = { nonce: this.syncNonce, sentAt: performance.now() };
    this.writeSync(this.syncNonce);
  }

  private writeSync(nonce: number): void {
    const wire = encodeFrame([REQ.SYNC, nonce]);
    this.stats.bytesSent += wire.length;
    this.write(wire);
  }

  /**
   * The barrier answered: the device expects `e`, holds the frames in `held`, and nothing sent before the SYNC can
   * still arrive. Everything before `e` ran (or was bounced, if stalled). If the device holds none of the rest, they
   * are split to the current chunk and renumbered from `e`; otherwise the missing ones are resent with their seqs.
   */
  private barrier(e: number, stalled: boolean, stallSeq: number, held: Uint8Array): void {
    this.sync = null;
    this.lastGoBack = { seq: -1, at: 0 };
    const head = this.flight[0];
    if (head?.exclusive) {
      // Sent alone. If it ran (seq e-1) its response is the device's cached one: ask again with the same seq.
      if (head.seq === ((e - 1) & 0xff)) {
        this.send(head);
        this.stats.framesRetransmitted++;
        return this.arm();
      }
    } else if (stalled) {
      this.ackBefore(stallSeq);
      this.bounceBefore(e);
    } else this.ackBefore(e);
    if (!this.flight.length && !this.bounced.length) {
      // Everything had run: a late answer or a lost ack, not a lost request. Take the loss back.
      this.loss.takeBack();
      this.sizeChunk();
    }
    this.markHeld(e, held);
    const anyHeld = this.flight.some((p) => p.held);
    if (anyHeld && !this.flight.some((p) => !p.held && tooBig(p, this.chunk))) {
      for (const p of this.flight) if (!p.held) this.resend(p);
    } else {
      this.refragment(e);
      // Held frames keep their seqs, so a missing frame too long for the line could not be split: drop the held
      // ones with a HELLO (it clears the reorder buffer and sets expected), then send everything again, split.
      if (anyHeld) this.queue.unshift(internalRequest(REQ.HELLO));
    }
    this.pump();
  }

  /** Marks the frames the device holds; a held copy proves everything sent before its first copy arrived. */
  private markHeld(e: number, held: Uint8Array): number {
    const t = markHeld(this.flight, e, held);
    this.arrived(t);
    return t;
  }

  /** Resends every frame still missing whose last copy went out before `t` (bytes arrive in order: it was lost). */
  private resendLost(t: number): void {
    if (this.sync) return; // a barrier is out: nothing may follow the SYNC
    const lost = lostFrames(this.flight, t);
    if (!lost.length) return;
    if (lost.some((p) => tooBig(p, this.chunk))) {
      this.onLoss();
      return this.sendSync();
    }
    this.stats.retransmitRounds++;
    this.stats.selectiveRounds++;
    for (const p of lost) {
      this.loss.lost();
      this.resend(p);
    }
    this.sizeChunk();
  }

  private resend(p: Pending): void {
    this.lastResendAt = performance.now();
    for (const q of this.flight) if (((q.seq - p.seq) & 0xff) < this.flight.length) q.behindLoss = true;
    this.send(p);
    this.stats.framesRetransmitted++;
  }

  /** Nothing in flight has run and no copy of it can still arrive: split long writes, renumber from nextSeq. */
  private refragment(nextSeq: number): void {
    const again = this.flight.flatMap((p) => fragments(p, this.chunk));
    this.flight.length = 0;
    this.seq = nextSeq;
    this.queue.unshift(...again);
  }

  /** A request sent alone drew a NAK at its seq: resend it, at most once per half RTO. */
  private fastRetransmit(e: number): void {
    const now = performance.now();
    if (this.lastGoBack.seq !== e || now - this.lastGoBack.at > this.rto() / 2) {
      this.lastGoBack = { seq: e, at: now };
      this.stats.retransmitRounds++;
      this.onLoss();
      for (const p of this.flight) this.resend(p);
    }
  }

  private onLoss(): void {
    this.okStreak = 0;
    this.loss.lost();
    this.sizeChunk();
  }

  private sizeChunk(): void {
    this.chunk = this.loss.chunk(this.maxRequest);
  }

  private onNak({ expected: e, stalled, stallSeq, echo, held }: Nak): void {
    const isSync = echo?.type === REQ.SYNC;
    if (this.sync && isSync && echo.seq === this.sync.nonce) {
      this.progress();
      return this.barrier(e, stalled, stallSeq, held);
    }
    if (this.flight[0]?.exclusive) {
      // A NAK cannot ack a request that returns data; only its (cached) response can. Resend it if it is due.
      if (!this.sync && (this.flight[0].seq === e || this.flight[0].seq === ((e - 1) & 0xff))) this.fastRetransmit(e);
      return;
    }
    if (stalled) {
      // Stalled since stall_seq: before it done, from it up to `expected` bounced.
      this.ackBefore(stallSeq);
      this.bounceBefore(e);
    } else this.ackBefore(e);
    let t = this.markHeld(e, held);
    if (this.probe && isSync && echo.seq === this.probe.nonce) {
      // Everything sent before the probe has arrived or was lost.
      t = Math.max(t, this.probe.sentAt);
      this.arrived(t);
      this.probe = null;
    }
    this.resendLost(t);
  }

  private onFrame(f: Uint8Array): void {
    if (f.length < 2) return;
    this.backoff = 1; // the line works: time out at the normal pace
    const type = f[0]!;
    if (type === NAK) {
      this.stats.naks++;
      this.onNak(parseNak(f));
      return this.pump();
    }
    if (!(type & RESP_BIT) || f.length < RESP_HEADER) return;
    const seq = f[1]!;
    const k = this.flight.findIndex((p) => p.seq === seq);
    if (k < 0) return; // stale duplicate response
    const p = this.flight[k]!;
    if ((type & ~RESP_BIT) !== p.type) return;
    if (f[2] === STATUS.BUSY && f.length > RESP_HEADER) {
      this.ackBefore(f[RESP_HEADER]!);
      this.bounceBefore(seq);
      this.bounce(this.flight.shift()!);
      return this.pump();
    }
    this.ackBefore(seq);
    this.flight.shift();
    this.arrived(p.firstSentAt);
    this.sampleRtt(p);
    this.progress();
    if (p.type === REQ.STREAM_WRITE) this.bounced.ok();
    settle(p, { status: f[2]!, payload: f.subarray(RESP_HEADER) }, this.name);
    this.pump();
  }

  /** Cumulative ack: everything in flight sent before `seq` is done (write-like, so no payload). */
  private ackBefore(seq: number): void {
    while (this.flight.length && !this.flight[0]!.exclusive && this.flight[0]!.seq !== seq && ((seq - this.flight[0]!.seq) & 0xff) <= this.flight.length) {
      const p = this.flight.shift()!;
      this.arrived(p.firstSentAt);
      this.progress();
      settle(p, { status: 0, payload: new Uint8Array(0) }, this.name);
    }
  }

  private progress(): void {
    this.lastProgress = performance.now();
    this.rounds = 0;
    this.backoff = 1;
    if (++this.okStreak >= 8) {
      this.okStreak = 0;
      this.sizeChunk();
    }
  }


  /** Fails every pending request; the link is unusable afterwards. */
  fail(e: Error): void {
    if (this.failed) return;
    this.failed = e;
    this.sync = null;
    this.probe = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const p of [...this.flight, ...this.queue, ...this.bounced.clear()]) {
      if (p.onAbort) p.signal?.removeEventListener('abort', p.onAbort);
      p.reject(e);
    }
    this.flight.length = 0;
    this.queue.length = 0;
  }

  /** Waits until everything queued has been acknowledged. */
  async idle(): Promise<void> {
    while (this.flight.length || this.queue.length || this.bounced.length) {
      if (this.failed) throw this.failed;
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  async close(): Promise<void> {
    this.fail(new TransportError(this.name, 'link closed'));
    await this.transport.close();
  }
}
