/**
 * Register maps. One description per design (a RegMap) produces the Verilog register bank (bank.ts),
 * regmap.json (LiteX csr.json in spirit, json.ts) and a typed TS module (typescript.ts, ts-morph).
 *
 * Registers are 32-bit words at word addresses 0, 1, 2...; byte address = 4 * word address (XDMA user BAR,
 * LiteX CSR). Access: 'rw' (host writes, core reads), 'ro' (core drives, host reads), 'const' (fixed value).
 * Every map starts with the same header so a host can identify any design before trusting the rest.
 */
import { ConfigError } from '../util/errors';
import { PROTOCOL_REVISION } from '../link/protocol';

export type Access = 'rw' | 'ro' | 'const';

export interface RegisterDesc {
  name: string;
  addr: number;
  width: number;
  access: Access;
  /** Reset value (rw) or the value (const). */
  value: number;
  doc: string;
  /** Core port this register drives or reads, with the 32-bit slice index for wide ports. */
  port?: { name: string; part: number; parts: number };
}

export interface ChannelDesc {
  name: string;
  index: number;
  /** 'in' = host to device. */
  dir: 'in' | 'out';
  width: number;
  hasLast: boolean;
  /** Bytes per beat on the wire: ceil(width/8) data bytes, plus one flag byte (bit 0 = last) if hasLast. */
  bytes: number;
}

export interface MemoryDesc {
  /** Words of 32 bits reachable through MEM_WRITE/MEM_READ (the core decodes addresses). */
  words: number;
}

export interface LinkInfo {
  maxPayload: number;
  rxFifoBytes: number;
  clockHz: number;
  baud: number;
  clocksPerBit: number;
  simulated: boolean;
  maxFrames: number;
}

export interface RegMap {
  design: string;
  designId: number;
  version: number;
  registers: RegisterDesc[];
  channels: ChannelDesc[];
  memory: MemoryDesc | null;
  link: LinkInfo;
}

/** Fixed header registers, same addresses in every design. */
export const HEADER_REGS = ['design_id', 'version', 'link_caps', 'clock_hz', 'scratch', 'rx_frames_ok', 'rx_frames_bad'] as const;

export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const ch of Buffer.from(text, 'utf8')) {
    h ^= ch;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** link_caps: maxPayload in [15:0], log2(rxFifoBytes) in [23:16], log2(maxFrames) in [31:24]. */
export function linkCaps(l: Pick<LinkInfo, 'maxPayload' | 'rxFifoBytes' | 'maxFrames'>): number {
  return (l.maxPayload | (Math.log2(l.rxFifoBytes) << 16) | (Math.log2(l.maxFrames) << 24)) >>> 0;
}

export function parseLinkCaps(v: number): { maxPayload: number; rxFifoBytes: number; maxFrames: number } {
  return { maxPayload: v & 0xffff, rxFifoBytes: 2 ** ((v >>> 16) & 0xff), maxFrames: 2 ** ((v >>> 24) & 0xff) };
}

export interface RegMapInput {
  design: string;
  /** Bumped by the design owner for incompatible changes; mixed with the layout hash. */
  revision?: number;
  /** Core plain ports: inputs become rw registers, outputs ro registers (wide ports split into 32-bit parts). */
  ports: Array<{ name: string; dir: 'input' | 'output'; width: number }>;
  channels: Array<{ name: string; dir: 'in' | 'out'; width: number; hasLast: boolean }>;
  memory: MemoryDesc | null;
  link: LinkInfo;
  /** The link protocol revision hashed into `version` (default PROTOCOL_REVISION; tests emulate old bitstreams). */
  linkRevision?: number;
}

export function buildRegMap(inp: RegMapInput): RegMap {
  if (!/^[a-z][a-z0-9_]*$/.test(inp.design)) throw new ConfigError('design', 'must be lower-case letters, digits and _', inp.design);
  const regs: RegisterDesc[] = [];
  const add = (r: Omit<RegisterDesc, 'addr'>): void => {
    if (regs.some((x) => x.name === r.name)) throw new ConfigError('register', `duplicate register name in ${inp.design}`, r.name);
    regs.push({ ...r, addr: regs.length });
  };
  add({ name: 'design_id', width: 32, access: 'const', value: 0, doc: 'fnv1a32 of the design name' });
  add({ name: 'version', width: 32, access: 'const', value: 0, doc: 'fnv1a32 of the register/channel layout and revision' });
  add({ name: 'link_caps', width: 32, access: 'const', value: linkCaps(inp.link), doc: 'maxPayload [15:0], log2(rxFifoBytes) [23:16], log2(maxFrames) [31:24]' });
  add({ name: 'clock_hz', width: 32, access: 'const', value: inp.link.clockHz, doc: 'board clock' });
  add({ name: 'scratch', width: 32, access: 'rw', value: 0x5a5a5a5a, doc: 'free for link tests' });
  add({ name: 'rx_frames_ok', width: 32, access: 'ro', value: 0, doc: 'frames received with a good CRC' });
  add({ name: 'rx_frames_bad', width: 32, access: 'ro', value: 0, doc: 'frames dropped (CRC, overflow, too long)' });
  for (const p of inp.ports) {
    const parts = Math.ceil(p.width / 32);
    for (let k = 0; k < parts; k++) {
      const w = Math.min(32, p.width - 32 * k);
      add({
        name: parts === 1 ? p.name : `${p.name}_${k}`,
        width: w,
        access: p.dir === 'input' ? 'rw' : 'ro',
        value: 0,
        doc: `core ${p.dir} ${p.name}${parts > 1 ? ` bits [${32 * k + w - 1}:${32 * k}]` : ''}`,
        port: { name: p.name, part: k, parts },
      });
    }
  }
  const channels: ChannelDesc[] = [];
  for (const dir of ['in', 'out'] as const) {
    let index = 0;
    for (const c of inp.channels.filter((x) => x.dir === dir))
      channels.push({ ...c, index: index++, bytes: Math.ceil(c.width / 8) + (c.hasLast ? 1 : 0) });
  }
  const layout = JSON.stringify({ r: regs.map((r) => [r.name, r.width, r.access]), c: channels.map((c) => [c.name, c.dir, c.width, c.hasLast]), m: inp.memory, rev: inp.revision ?? 1, link: inp.linkRevision ?? PROTOCOL_REVISION });
  regs[0]!.value = fnv1a32(inp.design);
  regs[1]!.value = fnv1a32(layout);
  return { design: inp.design, designId: regs[0]!.value, version: regs[1]!.value, registers: regs, channels, memory: inp.memory, link: inp.link };
}

export function reg(map: RegMap, name: string): RegisterDesc {
  const r = map.registers.find((x) => x.name === name);
  if (!r) throw new ConfigError('register', `design ${map.design} has no register '${name}' (has: ${map.registers.map((x) => x.name).join(', ')})`, name);
  return r;
}

export function channel(map: RegMap, dir: 'in' | 'out', name: string): ChannelDesc {
  const c = map.channels.find((x) => x.dir === dir && x.name === name);
  if (!c) throw new ConfigError('channel', `design ${map.design} has no ${dir} channel '${name}'`, name);
  return c;
}
