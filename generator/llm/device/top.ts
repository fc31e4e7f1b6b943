/**
 * How the LLM device core goes behind the link: the link-top options (design id, memory size, layout revision) that
 * a board shell and the host must both use, so `Device.open` refuses a bitstream whose memory layout differs.
 */
import type { LinkTopOptions } from '../../link/top';
import { layoutRevision, type LlmDeviceConfig } from './layout';

export function llmDeviceTop(d: LlmDeviceConfig): LinkTopOptions {
  return { design: d.design, memWords: d.memWords, revision: layoutRevision(d) };
}
