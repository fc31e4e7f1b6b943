import { resolve } from 'node:path';
import { loadCheckpoint } from '../generator/llm/checkpoint';
import { describeEngine, engineConfig, SCHEMES, shapeOf, type SchemeName } from '../generator/llm/model-spec';
import { FloatModel, generateGreedy } from '../generator/llm/float-model';
import { GoldenDecoder } from '../generator/llm/golden/decoder';
import { quantizeModel } from '../generator/llm/quant/model';
import { report, table } from './table';

/** Decode speed of the integer golden decoder (and the float reference) on stories260K or --model FILE. */
export async function main(argv: string[]): Promise<void> {
  const mi = argv.indexOf('--model');
  const model = mi >= 0 ? argv[mi + 1]! : resolve(process.cwd(), '../shared/models/stories260K.bin');
  const ckpt = loadCheckpoint(model);
  const tokens = Math.min(256, ckpt.dims.seqLen);
  const time = (f: () => void) => {
    const t0 = performance.now();
    f();
    return (performance.now() - t0) / 1000;
  };
  const rows: Array<{ engine: string; config: string; tokensPerSecond: number; quantiseSeconds: number }> = [];
  const fsec = time(() => generateGreedy(new FloatModel(ckpt), [1], tokens));
  rows.push({ engine: 'float', config: 'float32 run.c order', tokensPerSecond: tokens / fsec, quantiseSeconds: 0 });
  for (const scheme of Object.keys(SCHEMES) as SchemeName[]) {
    const cfg = engineConfig(shapeOf(ckpt.dims), { ...SCHEMES[scheme] });
    let qm!: ReturnType<typeof quantizeModel>;
    const qsec = time(() => (qm = quantizeModel(ckpt, cfg, { search: 'mse' })));
    const dec = new GoldenDecoder(qm);
    generateGreedy(dec, [1], 16); // warm-up (JIT)
    const sec = time(() => generateGreedy(dec, [1], tokens));
    rows.push({ engine: 'golden', config: describeEngine(cfg), tokensPerSecond: tokens / sec, quantiseSeconds: qsec });
  }
  // Wall-clock rates depend on the machine; the ratio to the float reference in the same run does not (much).
  const withRatio = rows.map((r) => ({ ...r, speedVsFloat: r.tokensPerSecond / rows[0]!.tokensPerSecond }));
  report(argv, { model, tokens, rows: withRatio }, () =>
    `LLM decode speed, ${tokens} greedy tokens from BOS (${model})\n` +
    table(
      ['engine', 'config', 'tok/s (this machine)', 'speed vs float (same run)', 'quantise s'],
      withRatio.map((r) => [r.engine, r.config, r.tokensPerSecond, r.speedVsFloat, r.quantiseSeconds]),
    ),
  );
}
