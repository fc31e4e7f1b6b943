/**
 * Flow control of the host link (docs/protocol.md#flow-control): requests a stalled device bounced wait here with a
 * growing back-off (1..20 ms), and go out again in their original order, the first flagged RESUME.
 */
import type { Pending } from './pending';

export class Bounced {
  readonly list: Pending[] = [];
  private resumeAt = 0;
  private delay = 1;
  private timer: NodeJS.Timeout | null = null;

  get length(): number {
    return this.list.length;
  }

  add(p: Pending): void {
    p.resume = false;
    this.list.push(p);
    this.resumeAt = performance.now() + this.delay;
    this.delay = Math.min(20, this.delay * 2);
  }

  /** A STREAM_WRITE went through: the next stall starts with a short back-off again. */
  ok(): void {
    this.delay = 1;
  }

  /** The bounced requests in order, the first flagged RESUME, once nothing is in flight and the back-off passed. */
  takeDue(flightEmpty: boolean): Pending[] | null {
    if (!flightEmpty || performance.now() < this.resumeAt) return null;
    const out = this.list.splice(0).sort((a, b) => a.order - b.order);
    out[0]!.resume = true;
    return out;
  }

  /** Calls `pump` when the back-off has passed (once per wait). */
  wake(pump: () => void): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      pump();
    }, Math.max(1, this.resumeAt - performance.now()));
  }

  /** Stops the timer and hands back what was waiting (the link failed). */
  clear(): Pending[] {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    return this.list.splice(0);
  }
}
