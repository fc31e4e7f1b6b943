/** `--device` specs: sim (default), serial:PATH[@baud], tcp:HOST:PORT[@baud], xdma:N[@DIR]. */
import { ConfigError } from '../../generator/util/errors';
import type { RegMap } from '../../generator/regmap/regmap';
import { Device, type DeviceOptions } from './device';
import { FramedOps, type DeviceOps } from './ops';
import { parseSerialSpec, SerialTransport } from './serial';
import { TcpTransport } from './tcp';
import { VirtualBoardTransport, type VirtualBoardBuild } from './vboard';
import { XdmaOps } from './xdma';

export interface OpenDeviceOptions extends DeviceOptions {
  /** Builds the virtual board for `sim` (only called when needed). */
  virtualBoard?: () => Promise<VirtualBoardBuild>;
  log?: 'tail' | 'inherit' | string;
}

export async function openOps(spec: string, opts: OpenDeviceOptions = {}): Promise<DeviceOps> {
  if (spec === 'sim') {
    if (!opts.virtualBoard) throw new ConfigError('device', 'this command has no virtual board', spec);
    return new FramedOps(new VirtualBoardTransport(await opts.virtualBoard(), { log: opts.log }));
  }
  if (spec.startsWith('serial:')) {
    const { path, baud } = parseSerialSpec(spec);
    return new FramedOps(await SerialTransport.open(path, baud));
  }
  if (spec.startsWith('tcp:')) return new FramedOps(await TcpTransport.open(spec));
  if (spec.startsWith('xdma:')) return XdmaOps.open(spec);
  throw new ConfigError('device', "must be 'sim', 'serial:PATH[@baud]', 'tcp:HOST:PORT[@baud]' or 'xdma:N[@DIR]'", spec);
}

export async function openDevice(spec: string, map: RegMap, opts: OpenDeviceOptions = {}): Promise<Device> {
  return Device.open(await openOps(spec, opts), map, opts);
}
