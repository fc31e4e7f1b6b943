/**
 * Plots as SVG files, rendered headless from Vega-Lite specs (no browser, no canvas). Used where a person would rather
 * look than read: the sorter's latency distribution, benchmark sweeps.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { writeFileAtomic } from '../generator/util/files';
import { InputError } from '../generator/util/errors';

export type PlotSpec = TopLevelSpec;

export async function renderSvg(spec: PlotSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Render and write atomically; only .svg is supported (PNG would need a native canvas). */
export async function writePlot(path: string, spec: PlotSpec): Promise<void> {
  if (!path.toLowerCase().endsWith('.svg')) throw new InputError(`plot file ${path}: only .svg is supported`);
  await writeFileAtomic(path, await renderSvg(spec));
}

const base = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', config: { font: 'sans-serif' } } as const;

/** Histogram of `values` with `bins` bins. */
export function histogram(title: string, values: readonly number[], xTitle: string, bins = 30): PlotSpec {
  return {
    ...base,
    title,
    width: 420,
    height: 240,
    data: { values: values.map((v) => ({ v })) },
    mark: 'bar',
    encoding: {
      x: { field: 'v', type: 'quantitative', bin: { maxbins: bins }, title: xTitle },
      y: { aggregate: 'count', type: 'quantitative', title: 'count' },
    },
  };
}

/** One bar per label. */
export function bars(title: string, rows: ReadonlyArray<{ label: string; value: number }>, yTitle: string): PlotSpec {
  return {
    ...base,
    title,
    width: 240,
    height: 240,
    data: { values: rows.map((r) => ({ ...r })) },
    mark: 'bar',
    encoding: {
      x: { field: 'label', type: 'nominal', title: null, sort: null },
      y: { field: 'value', type: 'quantitative', title: yTitle },
    },
  };
}

/** Lines with points, one per series. */
export function lines(
  title: string,
  points: ReadonlyArray<{ x: number; y: number; series: string }>,
  axes: { x: string; y: string; logX?: boolean; logY?: boolean },
): PlotSpec {
  return {
    ...base,
    title,
    width: 420,
    height: 260,
    data: { values: points.map((p) => ({ ...p })) },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: axes.x, scale: axes.logX ? { type: 'symlog' } : {} },
      y: { field: 'y', type: 'quantitative', title: axes.y, scale: axes.logY ? { type: 'log' } : {} },
      color: { field: 'series', type: 'nominal', title: null },
    },
  };
}

/** Side by side. */
export function beside(...specs: PlotSpec[]): PlotSpec {
  return { ...base, hconcat: specs.map(({ $schema: _s, config: _c, ...rest }) => rest) } as PlotSpec;
}
