/**
 * Block-memory placement on UltraScale+ parts: how many URAM288 and BRAM36 blocks a set of memories takes, at block
 * granularity rather than in bits (docs/llm-engine.md#resources-the-engine-rtl-as-built-on-the-xcu280-7b-shape).
 * URAM288 has one shape, 4,096 x 72 (UG573); a BRAM36 in simple dual-port mode is 512 x 72 down to 32,768 x 1.
 */

export interface MemoryShape {
  name: string;
  width: number;
  depth: number;
}

export const URAM288 = { width: 72, depth: 4096 } as const;
export const BRAM36_SHAPES: ReadonlyArray<readonly [width: number, depth: number]> = [[72, 512], [36, 1024], [18, 2048], [9, 4096], [4, 8192], [2, 16384], [1, 32768]];

export const uramBlocks = (width: number, depth: number): number => (depth > 0 ? Math.ceil(width / URAM288.width) * Math.ceil(depth / URAM288.depth) : 0);
export const bram36Blocks = (width: number, depth: number): number =>
  depth > 0 ? Math.min(...BRAM36_SHAPES.map(([w, d]) => Math.ceil(width / w) * Math.ceil(depth / d))) : 0;

export type PlacementKind = 'bram' | 'uram' | 'uram+bram';

export interface MemoryPlacement {
  name: string;
  width: number;
  depth: number;
  kind: PlacementKind;
  uram: number;
  bram: number;
}

/** The ways one memory can be built: all BRAM36, all URAM288, or URAM for its whole 4K-row slabs and BRAM36 for the rest. */
export function placementOptions(m: MemoryShape): MemoryPlacement[] {
  const opt = (kind: PlacementKind, uram: number, bram: number): MemoryPlacement => ({ name: m.name, width: m.width, depth: m.depth, kind, uram, bram });
  const out = [opt('bram', 0, bram36Blocks(m.width, m.depth)), opt('uram', uramBlocks(m.width, m.depth), 0)];
  const slabRows = Math.floor(m.depth / URAM288.depth) * URAM288.depth;
  if (slabRows > 0 && slabRows < m.depth) out.push(opt('uram+bram', uramBlocks(m.width, slabRows), bram36Blocks(m.width, m.depth - slabRows)));
  return out;
}

export interface BlockPlacement {
  placements: MemoryPlacement[];
  uram: number;
  bram: number;
  available: { uram: number; bram: number };
  /** A placement within both limits was found (greedy: a found one proves the fit; none found proves nothing). */
  fits: boolean;
}

/**
 * Places memories in `available` URAM288 and BRAM36 blocks: every memory starts in BRAM36, then, while URAM is left,
 * the move that saves the most BRAM36 per URAM288 it spends is taken.
 */
export function placeMemories(mems: readonly MemoryShape[], available: { uram: number; bram: number }): BlockPlacement {
  const options = mems.map(placementOptions);
  const cur = options.map((o) => o[0]!);
  let uram = 0;
  for (;;) {
    let best: { i: number; p: MemoryPlacement; ratio: number } | undefined;
    options.forEach((opts, i) => {
      for (const p of opts) {
        const dU = p.uram - cur[i]!.uram;
        const dB = cur[i]!.bram - p.bram;
        if (dU <= 0 || dB <= 0 || uram + dU > available.uram) continue;
        const ratio = dB / dU;
        if (!best || ratio > best.ratio) best = { i, p, ratio };
      }
    });
    if (!best) break;
    uram += best.p.uram - cur[best.i]!.uram;
    cur[best.i] = best.p;
  }
  const bram = cur.reduce((s, p) => s + p.bram, 0);
  return { placements: cur, uram, bram, available, fits: uram <= available.uram && bram <= available.bram };
}
