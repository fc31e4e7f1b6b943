/**
 * Streaming max-pool (golden.ts `pool`): horizontal max inside a beat ('lanes' mode) or across size/n beats
 * ('beats' mode), then a vertical max against a rotating row buffer holding one partial result per output
 * beat of a row; the beat of the window's last row leaves as an output beat. Trailing rows/columns that do
 * not fill a window are dropped; junk lanes past validW pass through as junk.
 */
import { Module, cat, lit, mux, type Expr } from '../../hdl';
import { bitsFor } from '../../util/errors';
import type { PoolPlan } from './plan';

export function poolModule(p: PoolPlan, name: string): Module {
  const { size: s } = p;
  const { n, channels: C, bits } = p.in;
  const nOut = p.out.n;
  const m = new Module(name, { doc: `maxpool ${s}x${s} on ${p.in.rows}x${p.in.validW}x${C}, ${p.mode} mode, ${n} -> ${nOut} px/beat` });
  const inValid = m.input('in_valid', 1);
  const inData = m.input('in_data', n * C * bits);
  const outValid = m.output('out_valid', 1);
  const outData = m.output('out_data', nOut * C * bits);
  const val = (lane: number, c: number): Expr => inData.slice((lane * C + c + 1) * bits - 1, (lane * C + c) * bits);
  const max = (a: Expr, b: Expr): Expr => mux(a.gt(b), a, b);

  const bb = bitsFor(p.in.beatsPerRow - 1);
  const beat = m.reg('beat', bb, { init: 0 });
  const rowEnd = m.let('row_end', inValid.and(beat.eq(p.in.beatsPerRow - 1)));

  // ---- horizontal --------------------------------------------------------------------------------
  let hValid: Expr;
  let h: Expr[][]; // [out lane][channel]
  if (p.mode === 'lanes') {
    hValid = inValid;
    h = Array.from({ length: nOut }, (_, j) =>
      Array.from({ length: C }, (_, c) => {
        let v = val(j * s, c);
        for (let d = 1; d < s; d++) v = max(v, val(j * s + d, c));
        return m.let(`h${j}_${c}`, v);
      }),
    );
  } else {
    // running max over beatsPerWindow beats; windows past validW/size are dropped
    const g = p.beatsPerWindow;
    const gb = bitsFor(g - 1);
    const wxb = bitsFor(p.out.validW);
    const bw = m.reg('beat_in_window', gb, { init: 0 });
    const wx = m.reg('window_x', wxb, { init: 0 });
    const run = Array.from({ length: C }, (_, c) => m.reg(`run_${c}`, bits));
    const beatMax = Array.from({ length: C }, (_, c) => {
      let v = val(0, c);
      for (let d = 1; d < n; d++) v = max(v, val(d, c));
      return v;
    });
    const merged = beatMax.map((v, c) => m.let(`hm_${c}`, g === 1 ? v : mux(bw.eq(0), v, max(v, run[c]!))));
    const windowEnd = m.let('window_end', inValid.and(bw.eq(g - 1)));
    hValid = m.let('h_valid', windowEnd.and(wx.lt(lit(p.out.validW, wxb))));
    m.sync((b) =>
      b.if(inValid, (t) => {
        merged.forEach((v, c) => t.set(run[c]!, v));
        t.if(
          rowEnd,
          (u) => u.set(bw, 0).set(wx, 0),
          (u) => {
            u.set(bw, mux(bw.eq(g - 1), lit(0, gb), bw.add(1)));
            u.if(bw.eq(g - 1), (x) => x.set(wx, wx.add(1)));
          },
        );
      }),
    'horizontal');
    h = [merged];
  }

  // ---- vertical ----------------------------------------------------------------------------------
  const rb = bitsFor(p.in.rows - 1);
  const sbits = bitsFor(s - 1);
  const row = m.reg('row', rb, { init: 0 });
  const wy = m.reg('row_in_window', sbits, { init: 0 });
  const B = p.out.beatsPerRow;
  const width = nOut * C * bits;
  const hWord = cat(...h.slice().reverse().flatMap((lane) => lane.slice().reverse()));
  const vbuf = Array.from({ length: B }, (_, i) => m.reg(`vbuf_${i}`, width));
  const comb: Expr[] = [];
  for (let j = 0; j < nOut; j++)
    for (let c = 0; c < C; c++) {
      const lo = (j * C + c) * bits;
      comb.push(max(h[j]![c]!, vbuf[0]!.slice(lo + bits - 1, lo)));
    }
  const merged = m.let('v_merged', mux(wy.eq(0), hWord, cat(...comb.slice().reverse())));
  const emit = m.let('emit', hValid.and(wy.eq(s - 1)).and(row.zext(rb + 1).lt(lit(p.out.rows * s, rb + 1))));
  const oV = m.reg('out_v', 1, { init: 0 });
  const oD = m.reg('out_d', width);
  m.sync((b) => {
    b.if(hValid, (t) => vbuf.forEach((r, i) => t.set(r, i < B - 1 ? vbuf[i + 1]! : merged)));
    b.set(oV, emit);
    b.if(emit, (t) => t.set(oD, merged));
    b.if(inValid, (t) => t.set(beat, mux(rowEnd, lit(0, bb), beat.add(1))));
    b.if(rowEnd, (t) => {
      const lastRow = row.eq(p.in.rows - 1);
      t.set(row, mux(lastRow, lit(0, rb), row.add(1)));
      t.set(wy, mux(lastRow.or(wy.eq(s - 1)), lit(0, sbits), wy.add(1)));
    });
  }, 'vertical');
  m.assign(outValid, oV);
  m.assign(outData, oD);
  return m;
}
