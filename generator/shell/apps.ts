/**
 * Which board app wraps a design. Designs with their own link top (cell classifier + link, issue 6) register a
 * builder here; every other streaming design goes behind the UART stream bridge.
 */
import type { Module } from '../hdl';
import type { BoardApp } from './app';
import { streamBridgeApp } from './bridge';

export interface AppContext {
  design: string;
  core: Module;
  config: object;
  clockHz: number;
  baud: number;
}

export const APP_BUILDERS: Record<string, (ctx: AppContext) => BoardApp> = {};

export function boardAppFor(ctx: AppContext): BoardApp {
  const b = APP_BUILDERS[ctx.design];
  return b ? b(ctx) : streamBridgeApp(ctx.core, ctx.clockHz, ctx.baud);
}
