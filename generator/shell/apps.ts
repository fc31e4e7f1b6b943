/**
 * Which board app wraps a design: the cell classifier and the LLM engine go behind the issue-6 link (link-app.ts);
 * other pure-stream designs (the GEMV unit) behind the small UART stream bridge (bridge.ts).
 */
import type { AppContext, BoardApp } from './app';
import { streamBridgeApp } from './bridge';
import { linkApp } from './link-app';
import { cellnetLinkOptions } from '../cellnet/link-options';
import { llmDeviceTop, type LlmDeviceConfig } from '../llm/device';

export type { AppContext } from './app';

/** Designs with plain control/status ports need the link's register bank; the cell sorter also has the trigger. */
export const APP_BUILDERS: Record<string, (ctx: AppContext) => BoardApp> = {
  // The camera port is the board's video input (cellnet/link-options.ts), not a link channel.
  cellnet: (ctx) => linkApp(ctx, cellnetLinkOptions(ctx.core)),
  llm: linkApp,
  // The device's link options (design id, memory words, layout revision) are the ones the host expects.
  llmdev: (ctx) => linkApp(ctx, llmDeviceTop(ctx.config as LlmDeviceConfig)),
};

export function boardAppFor(ctx: AppContext): BoardApp {
  const b = APP_BUILDERS[ctx.design];
  return b ? b(ctx) : streamBridgeApp(ctx.core, ctx.clockHz, ctx.baud);
}
