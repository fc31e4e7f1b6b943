import { describe, expect, it } from 'vitest';
import { bram36Blocks, placeMemories, placementOptions, uramBlocks } from '../../../generator/flow/xilinx-memory';

describe('UltraScale+ block-memory placement', () => {
  it('counts blocks per shape: URAM288 is 4K x 72 only, BRAM36 takes its best aspect ratio', () => {
    expect(uramBlocks(72, 4096)).toBe(1);
    expect(uramBlocks(73, 4097)).toBe(4);
    expect(uramBlocks(526, 16384)).toBe(32);
    expect(bram36Blocks(72, 512)).toBe(1);
    expect(bram36Blocks(1, 32768)).toBe(1);
    // 526 x 16,384: 59 wide x 4 deep at 9 x 4,096 beats 8 x 32 at 72 x 512
    expect(bram36Blocks(526, 16384)).toBe(236);
  });

  it('offers URAM for the whole 4K-row slabs and BRAM36 for the rest of a memory just over 4K deep', () => {
    const opts = placementOptions({ name: 'x', width: 1536, depth: 4224 });
    expect(opts.map((o) => o.kind)).toEqual(['bram', 'uram', 'uram+bram']);
    expect(opts.find((o) => o.kind === 'uram')).toMatchObject({ uram: 44, bram: 0 });
    expect(opts.find((o) => o.kind === 'uram+bram')).toMatchObject({ uram: 22, bram: 22 });
  });

  it('spends URAM where it saves the most BRAM, and says when nothing fits', () => {
    const mems = [
      { name: 'deep', width: 72, depth: 16384 }, // 4 URAM or 32 BRAM36 (8 per URAM)
      { name: 'shallow', width: 720, depth: 2048 }, // 10 URAM or 40 BRAM36 (4 per URAM)
    ];
    const p = placeMemories(mems, { uram: 4, bram: 40 });
    expect(p.fits).toBe(true);
    expect(p.placements.map((x) => x.kind)).toEqual(['uram', 'bram']);
    expect([p.uram, p.bram]).toEqual([4, 40]);
    expect(placeMemories(mems, { uram: 4, bram: 39 }).fits).toBe(false);
    const all = placeMemories(mems, { uram: 14, bram: 0 });
    expect([all.uram, all.bram, all.fits]).toEqual([14, 0, true]);
  });
});
