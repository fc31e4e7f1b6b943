/**
 * GGUF reader: @huggingface/gguf parses the header, the metadata and the tensor infos; we check every tensor's data
 * range against the file and decode F32 / F16 / BF16 tensor data ourselves (the parser reads metadata only).
 */
import { gguf, GGMLQuantizationType, type MetadataValue } from '@huggingface/gguf';
import { InputError } from '../../util/errors';
import { bf16ToF32, f16ToF32 } from './half';

export interface GgufTensor {
  name: string;
  /** GGUF order: shape[0] is the innermost (contiguous) dimension. */
  shape: number[];
  type: GGMLQuantizationType;
  /** Absolute byte offset of the data in the file. */
  offset: number;
  elements: number;
}

export interface GgufFile {
  source: string;
  version: number;
  littleEndian: boolean;
  metadata: Record<string, MetadataValue>;
  tensors: Map<string, GgufTensor>;
  bytes: Uint8Array;
}

/** The tensor types whose data we decode to float32 exactly. */
export const ACCEPTED_TENSOR_TYPES = ['F32', 'F16', 'BF16'] as const;
const ELEMENT_BYTES = new Map<GGMLQuantizationType, number>([
  [GGMLQuantizationType.F32, 4],
  [GGMLQuantizationType.F16, 2],
  [GGMLQuantizationType.BF16, 2],
]);

export function typeName(t: GGMLQuantizationType): string {
  return GGMLQuantizationType[t] ?? `type ${t}`;
}

export function isGguf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x47 && bytes[1] === 0x47 && bytes[2] === 0x55 && bytes[3] === 0x46;
}

/** Serve HTTP range requests from memory, so the parser reads exactly the bytes we already hold. */
function bufferFetch(bytes: Uint8Array): typeof fetch {
  return (async (_uri: unknown, init?: { headers?: Record<string, string> }) => {
    const m = /bytes=(\d+)-(\d+)/.exec(init?.headers?.Range ?? '');
    const start = m ? Math.min(Number(m[1]), bytes.length) : 0;
    const end = m ? Math.min(Number(m[2]) + 1, bytes.length) : bytes.length;
    return new Response(bytes.slice(start, end), { status: 206, headers: { 'content-range': `bytes ${start}-${Math.max(start, end - 1)}/${bytes.length}` } });
  }) as typeof fetch;
}

/** Parse a GGUF file held in memory. Header, metadata and tensor infos are validated; tensor data is read lazily. */
export async function parseGguf(bytes: Uint8Array, source = '<buffer>'): Promise<GgufFile> {
  const fail = (msg: string): never => {
    throw new InputError(`GGUF ${source}: ${msg}`);
  };
  if (!isGguf(bytes)) fail('does not start with the GGUF magic bytes');
  let parsed: Awaited<ReturnType<typeof gguf>>;
  try {
    parsed = await gguf('https://lutforge.invalid/model.gguf', { fetch: bufferFetch(bytes) });
  } catch (e) {
    const msg = (e as Error).message;
    const hint = e instanceof RangeError || /fetch|outside the bounds|Offset/i.test(msg) ? ' (truncated file?)' : '';
    return fail(`header, metadata or tensor infos are malformed${hint}: ${msg}`);
  }
  const dataStart = Number(parsed.tensorDataOffset);
  const tensors = new Map<string, GgufTensor>();
  for (const t of parsed.tensorInfos) {
    if (tensors.has(t.name)) fail(`tensor ${t.name} appears twice`);
    const shape = t.shape.map(Number);
    const elements = shape.reduce((a, b) => a * b, 1);
    const offset = dataStart + Number(t.offset);
    const size = ELEMENT_BYTES.get(t.dtype);
    // Unsupported types are kept (so the error can name the tensor and its type when it is used) but not sized here.
    if (size !== undefined && offset + elements * size > bytes.length)
      fail(`tensor ${t.name} data [${offset}, ${offset + elements * size}) runs past the end of the ${bytes.length}-byte file (truncated?)`);
    tensors.set(t.name, { name: t.name, shape, type: t.dtype, offset, elements });
  }
  if (dataStart > bytes.length) fail(`tensor data would start at byte ${dataStart}, past the end of the ${bytes.length}-byte file (truncated?)`);
  const metadata: Record<string, MetadataValue> = {};
  for (const [k, v] of Object.entries(parsed.metadata)) if (k !== 'version' && k !== 'tensor_count' && k !== 'kv_count') metadata[k] = v as MetadataValue;
  return { source, version: parsed.metadata.version, littleEndian: parsed.littleEndian, metadata, tensors, bytes };
}

/** Decode a tensor to float32 (F32, F16, BF16); other types are refused, naming the tensor and its type. */
export function tensorF32(file: GgufFile, t: GgufTensor): Float32Array {
  const size = ELEMENT_BYTES.get(t.type);
  if (size === undefined)
    throw new InputError(
      `GGUF ${file.source}: tensor ${t.name} has type ${typeName(t.type)}; accepted tensor types are ${ACCEPTED_TENSOR_TYPES.join(', ')} ` +
        '(already-quantised GGUF types are not dequantised: convert from an F32/F16/BF16 GGUF, lutforge quantises itself)',
    );
  const out = new Float32Array(t.elements);
  const dv = new DataView(file.bytes.buffer, file.bytes.byteOffset + t.offset, t.elements * size);
  const le = file.littleEndian;
  if (t.type === GGMLQuantizationType.F32) {
    if (le) new Uint8Array(out.buffer).set(file.bytes.subarray(t.offset, t.offset + 4 * t.elements));
    else for (let i = 0; i < t.elements; i++) out[i] = dv.getFloat32(4 * i, false);
  } else {
    const conv = t.type === GGMLQuantizationType.F16 ? f16ToF32 : bf16ToF32;
    for (let i = 0; i < t.elements; i++) out[i] = conv(dv.getUint16(2 * i, le));
  }
  return out;
}
