/**
 * A Vivado IP-integrator block design as data, and its one Tcl printer. Shells describe cells (IP by VLNV with
 * CONFIG properties, or RTL module references), external ports, interface and net connections and the address
 * map; `blockDesignTcl` prints them in a fixed order. Tests parse the printed Tcl back (parseBlockDesignTcl) and
 * check it, so the data and the text cannot drift apart.
 */

export interface BdIpCell {
  kind: 'ip';
  name: string;
  vlnv: string;
  config: Record<string, string | number>;
}
export interface BdModuleCell {
  kind: 'module';
  name: string;
  /** Top module of the added RTL. */
  module: string;
}
export type BdCell = BdIpCell | BdModuleCell;

export interface BdPort {
  name: string;
  /** 'intf' ports carry a VLNV of the interface (e.g. diff_clock, pcie_7x_mgt). */
  kind: 'intf' | 'net';
  mode: 'Master' | 'Slave' | 'I' | 'O';
  vlnv?: string;
  type?: 'clk' | 'rst' | 'data';
  width?: number;
  props?: Record<string, string | number>;
}

/** pin = "cell/pin" or a bare external port name. */
export interface BdConn {
  kind: 'intf' | 'net';
  from: string;
  to: readonly string[];
}

export interface BdAddr {
  /** Master address space, "cell/space". */
  space: string;
  /** Slave segment, "cell/intf/segment". */
  segment: string;
  offset: bigint;
  range: bigint;
}

export interface BlockDesign {
  name: string;
  cells: BdCell[];
  ports: BdPort[];
  conns: BdConn[];
  addrs: BdAddr[];
}

const hex = (x: bigint): string => `0x${x.toString(16).toUpperCase().padStart(9, '0')}`;
const brace = (v: string | number): string => `{${v}}`;

const pinRef = (kind: 'intf' | 'net', p: string): string =>
  p.includes('/') ? `[get_bd_${kind === 'intf' ? 'intf_pins' : 'pins'} ${p}]` : `[get_bd_${kind === 'intf' ? 'intf_ports' : 'ports'} ${p}]`;

export function blockDesignTcl(bd: BlockDesign): string {
  const o: string[] = [];
  o.push(`create_bd_design ${bd.name}`);
  o.push('');
  o.push('# ---- cells');
  for (const c of bd.cells) {
    if (c.kind === 'ip') {
      o.push(`create_bd_cell -type ip -vlnv ${c.vlnv} ${c.name}`);
      const cfg = Object.entries(c.config);
      if (cfg.length) o.push(`set_property -dict [list ${cfg.map(([k, v]) => `CONFIG.${k} ${brace(v)}`).join(' \\\n  ')}] [get_bd_cells ${c.name}]`);
    } else o.push(`create_bd_cell -type module -reference ${c.module} ${c.name}`);
  }
  o.push('');
  o.push('# ---- external ports');
  for (const p of bd.ports) {
    if (p.kind === 'intf') o.push(`create_bd_intf_port -mode ${p.mode} -vlnv ${p.vlnv} ${p.name}`);
    else o.push(`create_bd_port -dir ${p.mode}${p.width && p.width > 1 ? ` -from ${p.width - 1} -to 0` : ''} -type ${p.type ?? 'data'} ${p.name}`);
    const props = Object.entries(p.props ?? {});
    if (props.length) o.push(`set_property -dict [list ${props.map(([k, v]) => `CONFIG.${k} ${brace(v)}`).join(' ')}] [get_bd_${p.kind === 'intf' ? 'intf_ports' : 'ports'} ${p.name}]`);
  }
  o.push('');
  o.push('# ---- connections');
  for (const c of bd.conns)
    o.push(`connect_bd_${c.kind === 'intf' ? 'intf_net' : 'net'} ${pinRef(c.kind, c.from)} ${c.to.map((t) => pinRef(c.kind, t)).join(' ')}`);
  o.push('');
  o.push('# ---- address map');
  for (const a of bd.addrs)
    o.push(`assign_bd_address -offset ${hex(a.offset)} -range ${hex(a.range)} -target_address_space [get_bd_addr_spaces ${a.space}] [get_bd_addr_segs ${a.segment}] -force`);
  o.push('');
  o.push('validate_bd_design');
  o.push('save_bd_design');
  return o.join('\n') + '\n';
}

export interface ParsedBd {
  cells: Array<{ name: string; kind: 'ip' | 'module'; ref: string }>;
  conns: Array<{ kind: 'intf' | 'net'; pins: string[] }>;
  addrs: Array<{ space: string; segment: string; offset: bigint; range: bigint }>;
}

/** Reads back what blockDesignTcl printed (cells, connections, address segments), from the text alone. */
export function parseBlockDesignTcl(tcl: string): ParsedBd {
  const out: ParsedBd = { cells: [], conns: [], addrs: [] };
  for (const line of tcl.split('\n')) {
    let m = /^create_bd_cell -type ip -vlnv (\S+) (\S+)$/.exec(line);
    if (m) out.cells.push({ name: m[2]!, kind: 'ip', ref: m[1]! });
    m = /^create_bd_cell -type module -reference (\S+) (\S+)$/.exec(line);
    if (m) out.cells.push({ name: m[2]!, kind: 'module', ref: m[1]! });
    m = /^connect_bd_(intf_net|net) (.*)$/.exec(line);
    if (m) out.conns.push({ kind: m[1] === 'net' ? 'net' : 'intf', pins: [...m[2]!.matchAll(/\[get_bd_\w+ (\S+)\]/g)].map((x) => x[1]!) });
    m = /^assign_bd_address -offset (\S+) -range (\S+) -target_address_space \[get_bd_addr_spaces (\S+)\] \[get_bd_addr_segs (\S+)\]/.exec(line);
    if (m) out.addrs.push({ offset: BigInt(m[1]!), range: BigInt(m[2]!), space: m[3]!, segment: m[4]! });
  }
  return out;
}
