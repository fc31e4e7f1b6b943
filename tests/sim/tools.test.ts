import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileIcarus, runVvp } from '../../sim/icarus';
import { LintError, lintVerilog } from '../../sim/lint';
import { passthroughFiles } from './ifaces';

const narrowing = { name: 'bad.v', text: 'module bad(input wire [3:0] a, output wire [1:0] y);\n  assign y = a;\nendmodule\n' };

describe('lintVerilog', () => {
  it('passes the lint-clean fixture', async () => {
    const r = await lintVerilog(passthroughFiles, 'passthrough');
    expect(r).toMatchObject({ ok: true, messages: [] });
  });

  it('throws LintError naming the file, line and warning code', async () => {
    const err = await lintVerilog([narrowing], 'bad').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LintError);
    const e = err as LintError;
    expect(e.messages.some((m) => m.code === 'WIDTH' && m.file === 'bad.v' && m.line === 2)).toBe(true);
    expect(e.message).toMatch(/'bad'.*\n.*bad\.v:2: %warning-WIDTH/);
    const r = await lintVerilog([narrowing], 'bad', { throwOnWarning: false });
    expect(r.ok).toBe(false);
  });
});

describe('icarus', () => {
  it('compiles the fixture with -g2005 and runs a testbench', async () => {
    const tb = {
      name: 'tb.v',
      text: [
        'module tb;',
        '  reg clk = 0, rst = 1, a_valid = 0, a_last = 0, b_ready = 1;',
        '  reg [99:0] a_data = 0;',
        '  wire a_ready, b_valid, b_last; wire [99:0] b_data; wire [15:0] count;',
        '  passthrough dut(.clk(clk), .rst(rst), .addend(8\'d5), .count(count), .a_valid(a_valid), .a_ready(a_ready),',
        '    .a_data(a_data), .a_last(a_last), .b_valid(b_valid), .b_ready(b_ready), .b_data(b_data), .b_last(b_last));',
        '  always #5 clk = ~clk;',
        '  initial begin',
        '    @(posedge clk); @(posedge clk); rst <= 0; a_valid <= 1; a_data <= 100\'d37;',
        '    @(posedge clk); a_valid <= 0;',
        '    @(posedge clk); $display("out=%0d count=%0d", b_data, count); $finish;',
        '  end',
        'endmodule',
      ].join('\n'),
    };
    const b = await compileIcarus([...passthroughFiles, tb], 'tb');
    try {
      const r = await runVvp(b.vvp);
      expect(r.stdout).toContain('out=42 count=1');
    } finally {
      rmSync(b.dir, { recursive: true, force: true });
    }
  });

  it('reports compile errors naming the top module', async () => {
    await expect(compileIcarus([{ name: 'broken.v', text: 'module broken(; endmodule\n' }], 'broken')).rejects.toThrow(/iverilog -g2005 of 'broken' failed[\s\S]*broken\.v/);
  });
});
