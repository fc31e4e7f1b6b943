/** Progress bars for long transfers, on stderr; silent when stderr is not a terminal or when disabled. */
import cliProgress from 'cli-progress';

export type Progress = (done: number, total: number) => void;

export function progressBar(label: string, enabled = process.stderr.isTTY === true): { update: Progress; stop: () => void } {
  if (!enabled) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: `${label} [{bar}] {percentage}% {value}/{total} B {speed} B/s`, hideCursor: false },
    cliProgress.Presets.shades_classic,
  );
  const t0 = performance.now();
  let started = false;
  return {
    update: (done, total) => {
      if (!started) {
        bar.start(total, 0, { speed: 0 });
        started = true;
      }
      bar.setTotal(total);
      bar.update(done, { speed: Math.round(done / Math.max(1e-3, (performance.now() - t0) / 1000)) });
    },
    stop: () => started && bar.stop(),
  };
}
