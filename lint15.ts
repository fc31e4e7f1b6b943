import { llmPresetConfig, STORIES260K_SHAPE } from './generator/llm/engine/hw-config';
import { llmDeviceConfig } from './generator/llm/device/layout';
import { llmDeviceModule } from './generator/llm/device/sequencer';
import { printDesign } from './generator/hdl';
import { lintVerilog } from './sim/lint';
for (const [T, mem] of [[4, 'bram'], [4, 'axi'], [1, 'axi'], [1, 'bram']] as const) {
  const cfg = llmPresetConfig('sim-small', STORIES260K_SHAPE, { hw: { prefillBlock: T } });
  const d = llmDeviceConfig(cfg, { latency: 3, ...(mem === 'axi' ? { mem: 'axi' as const, hbm: { masters: 4, axiBits: 64 } } : {}) });
  const p = printDesign(llmDeviceModule(d));
  const r = await lintVerilog(p.files, p.top, { throwOnWarning: false });
  console.log(T, mem, r.messages.slice(0, 10));
}
