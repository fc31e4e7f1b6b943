/**
 * Fit check: Yosys resource counts for the whole generated top against the board's capacity. A design that does
 * not fit raises FitError with a table of every resource (overflowing rows marked) and a suggestion.
 */
import type { Board } from '../../boards';
import type { VerilogFile } from '../hdl';
import { synthesize, type ResourceReport } from './synth';

export interface FitRow {
  resource: string;
  used: number;
  available: number;
  percent: number;
  over: boolean;
}

export interface FitReport {
  board: string;
  fits: boolean;
  rows: FitRow[];
  synth: ResourceReport;
  suggestion?: string;
}

export class FitError extends Error {
  constructor(readonly report: FitReport) {
    super(`design does not fit ${report.board}:\n${formatFitTable(report.rows)}${report.suggestion ? `\n${report.suggestion}` : ''}`);
    this.name = 'FitError';
  }
}

/** Rows from a Yosys report; SPRAM and URAM are split out of the family's block-RAM count. */
export function fitRows(board: Board, r: ResourceReport): FitRow[] {
  const c = board.capacity;
  const spram = r.cells['SB_SPRAM256KA'] ?? 0;
  const uram = (r.cells['URAM288'] ?? 0) + (r.cells['URAM288_BASE'] ?? 0);
  const rows: Array<[string, number, number]> = [
    ['LUT', r.luts + r.lutram, c.luts],
    ['FF', r.ffs, c.ffs],
    ['DSP', r.dsp, c.dsp],
    ['BRAM', r.bram - spram, c.bram],
  ];
  if (c.spram !== undefined || spram) rows.push(['SPRAM', spram, c.spram ?? 0]);
  if (c.uram !== undefined || uram) rows.push(['URAM', uram, c.uram ?? 0]);
  return rows.map(([resource, used, available]) => ({
    resource,
    used,
    available,
    percent: available ? (100 * used) / available : used ? Infinity : 0,
    over: used > available,
  }));
}

export function formatFitTable(rows: readonly FitRow[]): string {
  const head = ['resource', 'used', 'available', 'use %', ''];
  const body = rows.map((r) => [r.resource, String(r.used), String(r.available), Number.isFinite(r.percent) ? r.percent.toFixed(1) : 'inf', r.over ? 'OVERFLOW' : 'ok']);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => '  ' + cells.map((x, i) => (i === 0 || i === 4 ? x.padEnd(w[i]!) : x.padStart(w[i]!))).join('  ').trimEnd();
  return [line(head), ...body.map(line)].join('\n');
}

export async function fitCheck(board: Board, files: readonly VerilogFile[], top: string, suggest?: (rows: FitRow[]) => string): Promise<FitReport> {
  const synth = await synthesize(files, top, board.part.family);
  const rows = fitRows(board, synth);
  const fits = rows.every((r) => !r.over);
  return { board: board.name, fits, rows, synth, suggestion: fits ? undefined : suggest?.(rows) };
}
