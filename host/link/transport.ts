/** Byte transports: one interface for the virtual board, serial ports and anything else that carries bytes. */

export interface ByteTransport {
  /** Shown in errors, e.g. "sim", "serial:/dev/ttyUSB1@115200". */
  readonly name: string;
  /** Line rate in bit/s used to size timeouts (virtual boards give an equivalent). */
  readonly baud: number;
  write(data: Uint8Array): void;
  /** One listener; bytes arrive in order. */
  onData(cb: (data: Uint8Array) => void): void;
  /** Optional: called once when the peer goes away (a closed socket), so pending requests fail at once. */
  onClose?(cb: (e: Error) => void): void;
  close(): Promise<void>;
}

export class TransportError extends Error {
  constructor(
    readonly transport: string,
    message: string,
  ) {
    super(`transport ${transport}: ${message}`);
    this.name = 'TransportError';
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
