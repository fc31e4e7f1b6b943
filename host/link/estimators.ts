/**
 * What the link measures about its line (docs/protocol.md#reliability): round-trip time and fixed latency (for the
 * retransmission timer and the lossy window), and the byte error rate (for the chunk size).
 */

/** Smoothed RTT and its variation (ms), from requests answered on their first transmission (Karn). */
export class RttEstimator {
  srtt = 0;
  rttvar = 0;
  /** Smallest round trip seen minus the line time of its bytes (ms): the line's fixed latency. */
  minLatency = Infinity;

  /** A round trip of r ms whose frames took lineMs of line time. */
  sample(r: number, lineMs: number): void {
    this.minLatency = Math.min(this.minLatency, Math.max(0, r - lineMs));
    if (!this.srtt) {
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
  }

  /**
   * RTO = max(fixed + 2 x line time of what is queued, SRTT + 4 RTTVAR), where fixed = 4 x the measured latency (at
   * least 5 ms; 20 ms before a sample). `queuedMs` is the line time of the bytes in flight and of the answers due;
   * `initial` applies before the first sample.
   */
  rto(queuedMs: number, initial: number): number {
    const fixed = Number.isFinite(this.minLatency) ? Math.max(5, 4 * this.minLatency) : 20;
    const floor = fixed + 2 * queuedMs;
    return this.srtt ? Math.max(floor, this.srtt + 4 * this.rttvar) : Math.max(floor, initial);
  }
}

/** The link's clock: line time at the transport's rate, the RTT estimate, and the delays built from them. */
export class LineTiming {
  readonly rtt = new RttEstimator();

  constructor(
    private readonly baud: () => number,
    private readonly o: { rtoMs?: number; lineCapScale?: number } = {},
  ) {}

  lineMs(bytes: number): number {
    return (bytes * 10 * 1000) / this.baud();
  }

  private latency(): number {
    return Number.isFinite(this.rtt.minLatency) ? this.rtt.minLatency : 5;
  }

  /**
   * Bytes allowed on the line unconfirmed: 4 (`lineCapScale`) x (a round trip of it plus a frame), and two frames more.
   * More would only queue in the transport, and a resend would wait behind it.
   */
  lineCap(frame: number): number {
    return 2 * frame + (this.o.lineCapScale ?? 4) * ((this.latency() * this.baud()) / 10 / 1000 + frame);
  }

  /** When an answer to what was just sent is late (ms): 1.5 x (line time of the bytes ahead of it + latency) + 2. */
  answerMs(unconfirmedBytes: number): number {
    return 1.5 * (this.lineMs(unconfirmedBytes + 48) + this.latency()) + 2;
  }

  /** RTO for `queuedBytes` in flight and due as answers; before a sample, from the device FIFO size. */
  rto(queuedBytes: number, fifoBytes: number): number {
    return this.rtt.rto(this.lineMs(queuedBytes + 16), this.o.rtoMs ?? 150 + 2 * this.lineMs(fifoBytes * 2));
  }

  sample(ms: number, frameBytes: number): void {
    this.rtt.sample(ms, this.lineMs(frameBytes + 16));
  }
}

/**
 * Decaying counts (about the last 64 KiB) of wire bytes and frames sent and of frames lost, so the estimate follows
 * a changing line. A frame of n wire bytes is lost with probability 1-(1-p)^n, which gives the byte error rate p.
 */
export class LossEstimator {
  bytes = 0;
  frames = 0;
  losses = 0;

  sent(wireBytes: number): void {
    const keep = Math.exp(-wireBytes / 65536);
    this.bytes = this.bytes * keep + wireBytes;
    this.frames = this.frames * keep + 1;
    this.losses *= keep;
  }

  lost(): void {
    this.losses += 1;
  }

  /** A loss that turned out to be a late answer, not a lost frame. */
  takeBack(): void {
    this.losses = Math.max(0, this.losses - 1);
  }

  /** Measured byte error rate (0 before any loss). */
  byteErrorRate(): number {
    if (this.losses < 0.5 || this.frames < 1) return 0;
    const f = Math.min(0.95, this.losses / this.frames);
    return -Math.log(1 - f) / (this.bytes / this.frames);
  }

  /**
   * Payload bytes per frame for the measured byte error rate p: a frame of L payload bytes, `head` of them not data
   * (e.g. a MEM_WRITE's address) and `over` bytes of framing, carries (L-head)/(L+over)·(1-p)^(L+over) of the line;
   * the best L in steps of 4 from 16 to maxPayload. Without losses it is maxPayload.
   */
  chunk(maxPayload: number, over = 8, head = 4): number {
    const p = this.byteErrorRate();
    if (!p) return maxPayload;
    let best = 16;
    let bestEff = 0;
    for (let l = 16; l <= maxPayload; l += 4) {
      const eff = ((l - head) / (l + over)) * Math.pow(1 - p, l + over);
      if (eff > bestEff) [best, bestEff] = [l, eff];
    }
    return best;
  }
}
