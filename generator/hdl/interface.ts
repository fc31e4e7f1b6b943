/**
 * The boundary of a generated top module, as seen by the simulator harness, the host and board shells.
 * Produced by the IR (Module.interface()); consumers never parse Verilog.
 *
 * Clocking: one clock `clock` (rising edge) and one active-high synchronous reset `reset`.
 * Streams follow one valid/ready convention (docs/architecture.md#streams): a beat transfers on a rising
 * clock edge where both valid and ready are high; once valid is high, data/last hold until the transfer;
 * valid never waits for ready, ready may depend on valid.
 * Signal names: <stream>_valid, <stream>_ready, <stream>_data and optionally <stream>_last.
 */
export interface PortDesc {
  name: string;
  dir: 'input' | 'output';
  width: number;
  signed: boolean;
}

export interface StreamDesc {
  name: string;
  /** 'in' = the module consumes beats; 'out' = the module produces beats. */
  dir: 'in' | 'out';
  /** Width of the data signal in bits. */
  width: number;
  valid: string;
  ready: string;
  data: string;
  last?: string;
}

export interface ModuleInterface {
  name: string;
  clock: string;
  reset: string;
  /** Every port, including clock, reset and the signals of streams. */
  ports: PortDesc[];
  streams: StreamDesc[];
}

/** Ports that belong to no stream and are not clock or reset: plain control/status signals. */
export function plainPorts(m: ModuleInterface): PortDesc[] {
  const taken = new Set<string>([m.clock, m.reset]);
  for (const s of m.streams) for (const n of [s.valid, s.ready, s.data, s.last]) if (n) taken.add(n);
  return m.ports.filter((p) => !taken.has(p.name));
}
