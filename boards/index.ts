/** The board registry: one typed file per board, looked up by name. */
import { ConfigError } from '../generator/util/errors';
import { alveoU280 } from './alveo-u280';
import { artyA7_35t } from './arty-a7-35t';
import { icebreaker } from './icebreaker';
import { ku035Grabber } from './ku035-grabber';
import type { Board } from './types';
import { ulx3s } from './ulx3s';

export type { Board, PinDef, ClockSource, BoardMemory, Capacity } from './types';
export { PACKAGE_PINS, isPackagePin } from './packages';

export const BOARDS: Record<string, Board> = Object.fromEntries(
  [alveoU280, ku035Grabber, icebreaker, artyA7_35t, ulx3s].map((b) => [b.name, b]),
);

export function boardNamed(name: string): Board {
  const b = BOARDS[name];
  if (!b) throw new ConfigError('board', `must be one of ${Object.keys(BOARDS).join(', ')}`, name);
  return b;
}
