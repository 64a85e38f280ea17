/**
 * The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
 * u64 header length N, N bytes of UTF-8 JSON header, then the data buffer that the header's
 * `data_offsets` tile exactly. Pure TypeScript over typed arrays, so it runs in Node and workerd.
 */
import { QuiverInputError } from './errors.js';
import { decodeBf16, decodeF16, encodeBf16, encodeF16 } from './half.js';

export type Dtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export interface TensorInfo {
  dtype: Dtype;
  shape: number[];
  /** [begin, end) in bytes, relative to the data buffer (which starts at `dataStart`). */
  dataOffsets: [number, number];
}

export interface SafetensorsHeader {
  /** In file order (ascending data offset). */
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
  headerLength: number;
  /** 8 + headerLength: where the data buffer starts in the file. */
  dataStart: number;
}

export const DTYPE_SIZE: Readonly<Record<Dtype, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** The reference reader's limit (safetensors' MAX_HEADER_SIZE). */
const MAX_HEADER_LENGTH = 100_000_000;
const METADATA_KEY = '__metadata__';
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function isDtype(x: unknown): x is Dtype {
  return typeof x === 'string' && Object.hasOwn(DTYPE_SIZE, x);
}

function isCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

function where(source: string | undefined, tensor?: string): string {
  const file = source ?? 'safetensors';
  return tensor === undefined ? file : `${file}, tensor ${JSON.stringify(tensor)}`;
}

/** Product of `shape` (1 for a scalar); callers check the result with Number.isSafeInteger. */
function elementCount(shape: number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Validates the 8-byte length prefix and returns the header length N. `bytes` needs only the
 * first 8 bytes; `fileSize` is the whole file's size.
 */
export function safetensorsHeaderLength(bytes: Uint8Array, fileSize: number, source?: string): number {
  if (fileSize < 8 || bytes.length < 8) {
    throw new QuiverInputError(
      `file is ${fileSize} bytes, shorter than the 8-byte header length that starts a safetensors file`,
      where(source),
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
  const n = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  if (n > MAX_HEADER_LENGTH) {
    throw new QuiverInputError(
      `header length ${n} is absurd (over ${MAX_HEADER_LENGTH} bytes): not a safetensors file, or a corrupt one`,
      where(source),
    );
  }
  if (8 + n > fileSize) {
    throw new QuiverInputError(
      `header length ${n} is larger than the file (${fileSize} bytes): the file is truncated or not safetensors`,
      where(source),
    );
  }
  return n;
}

function parseTensorInfo(name: string, value: unknown, source: string | undefined): TensorInfo {
  const at = where(source, name);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new QuiverInputError('header entry must be an object with dtype, shape and data_offsets', at);
  }
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (!isDtype(dtype)) {
    throw new QuiverInputError(
      `unknown dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(DTYPE_SIZE).join(', ')})`,
      at,
    );
  }
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    throw new QuiverInputError(`shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`, at);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    throw new QuiverInputError(
      `data_offsets must be two non-negative integers [begin, end], got ${JSON.stringify(offsets)}`,
      at,
    );
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) {
    throw new QuiverInputError(`data_offsets [${begin}, ${end}] have begin after end`, at);
  }
  const count = elementCount(shape);
  const expected = count * DTYPE_SIZE[dtype];
  if (!Number.isSafeInteger(expected) || end - begin !== expected) {
    throw new QuiverInputError(
      `data_offsets [${begin}, ${end}] span ${end - begin} bytes but shape [${shape.join(', ')}] of ${dtype} ` +
        `needs ${expected} bytes (${count} elements x ${DTYPE_SIZE[dtype]})`,
      at,
    );
  }
  return { dtype, shape: [...shape], dataOffsets: [begin, end] };
}

function parseMetadata(value: unknown, source: string | undefined): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new QuiverInputError(`${METADATA_KEY} must be an object of string to string, got ${JSON.stringify(value)}`, where(source));
  }
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') {
      throw new QuiverInputError(
        `${METADATA_KEY} must map strings to strings, but key ${JSON.stringify(k)} holds ${JSON.stringify(v)}`,
        where(source),
      );
    }
  }
  // fromEntries defines own properties, so a "__proto__" key stays data.
  return Object.fromEntries(Object.entries(value as Record<string, string>));
}

/**
 * Parses and validates a safetensors header. `bytes` holds at least the first 8 + N bytes of the
 * file (the whole file works too); `fileSize` is the size of the whole file, so the data buffer
 * can be checked without being read. Throws QuiverInputError saying what is wrong.
 */
export function parseSafetensorsHeader(bytes: Uint8Array, fileSize: number, source?: string): SafetensorsHeader {
  const headerLength = safetensorsHeaderLength(bytes, fileSize, source);
  const dataStart = 8 + headerLength;
  if (bytes.length < dataStart) {
    throw new RangeError(`parseSafetensorsHeader needs the first ${dataStart} bytes, got ${bytes.length}`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, dataStart));
  } catch {
    throw new QuiverInputError('header is not valid UTF-8', where(source));
  }
  let json: unknown;
  try {
    json = JSON.parse(text); // trailing space padding is JSON whitespace
  } catch (err) {
    throw new QuiverInputError(`header is not valid JSON (${(err as Error).message})`, where(source));
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new QuiverInputError('header must be a JSON object of tensor name to {dtype, shape, data_offsets}', where(source));
  }

  let metadata: Record<string, string> = {};
  const entries: Array<[string, TensorInfo]> = [];
  for (const [name, value] of Object.entries(json)) {
    if (name === METADATA_KEY) metadata = parseMetadata(value, source);
    else entries.push([name, parseTensorInfo(name, value, source)]);
  }

  const dataLength = fileSize - dataStart;
  for (const [name, info] of entries) {
    const [begin, end] = info.dataOffsets;
    if (end > dataLength) {
      throw new QuiverInputError(
        `data_offsets [${begin}, ${end}] are out of range: the data buffer is ${dataLength} bytes`,
        where(source, name),
      );
    }
  }
  entries.sort((a, b) => a[1].dataOffsets[0] - b[1].dataOffsets[0] || a[1].dataOffsets[1] - b[1].dataOffsets[1]);
  let covered = 0;
  let previous: string | undefined;
  for (const [name, info] of entries) {
    const [begin, end] = info.dataOffsets;
    if (begin < covered) {
      throw new QuiverInputError(
        `data_offsets [${begin}, ${end}] overlap tensor ${JSON.stringify(previous)}, which ends at ${covered}`,
        where(source, name),
      );
    }
    if (begin > covered) {
      throw new QuiverInputError(
        `data_offsets [${begin}, ${end}] leave a hole: bytes [${covered}, ${begin}) of the data buffer belong to no tensor`,
        where(source, name),
      );
    }
    covered = end;
    previous = name;
  }
  if (covered !== dataLength) {
    throw new QuiverInputError(
      `${dataLength - covered} trailing bytes after the last tensor: the data buffer is ${dataLength} bytes ` +
        `but the tensors cover ${covered}`,
      where(source),
    );
  }
  return { tensors: new Map(entries), metadata, headerLength, dataStart };
}

type TypedArrayCtor<T> = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number };

/** A little-endian view of `data` as `Ctor`, copying only when unaligned (or on a big-endian host). */
function leView<T>(data: Uint8Array, Ctor: TypedArrayCtor<T>): T {
  const size = Ctor.BYTES_PER_ELEMENT;
  const length = data.byteLength / size;
  if (LITTLE_ENDIAN_HOST && data.byteOffset % size === 0) return new Ctor(data.buffer, data.byteOffset, length);
  const copy = data.slice();
  if (!LITTLE_ENDIAN_HOST) swapBytes(copy, size);
  return new Ctor(copy.buffer, 0, length);
}

function swapBytes(bytes: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
}

/** Little-endian bytes of a typed array (a view on little-endian hosts). */
function leBytes(a: ArrayBufferView & { BYTES_PER_ELEMENT: number }): Uint8Array {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (LITTLE_ENDIAN_HOST) return bytes;
  const copy = bytes.slice();
  swapBytes(copy, a.BYTES_PER_ELEMENT);
  return copy;
}

function checkLength(info: TensorInfo, data: Uint8Array): void {
  const expected = info.dataOffsets[1] - info.dataOffsets[0];
  if (data.byteLength !== expected) {
    throw new RangeError(`tensor data is ${data.byteLength} bytes, its info says ${expected}`);
  }
}

/**
 * Decodes F32, F16, BF16 or F64 tensor bytes to float32. For F32 on aligned bytes the result is a
 * view of `data` (no copy): writing to it writes to `data`. F64 is rounded to float32.
 */
export function decodeFloat32(info: TensorInfo, data: Uint8Array, source?: string, name?: string): Float32Array {
  checkLength(info, data);
  switch (info.dtype) {
    case 'F32':
      return leView(data, Float32Array);
    case 'F16':
      return decodeF16(leView(data, Uint16Array));
    case 'BF16':
      return decodeBf16(leView(data, Uint16Array));
    case 'F64':
      return new Float32Array(leView(data, Float64Array));
    default:
      throw new QuiverInputError(`dtype ${info.dtype} is not a float type: read it as integers`, where(source, name));
  }
}

export type IntArray = Int32Array | BigInt64Array | Int16Array | Int8Array | Uint8Array;

/**
 * Decodes integer tensor bytes: I32 -> Int32Array, I64 -> BigInt64Array, I16 -> Int16Array,
 * I8 -> Int8Array, U8 and BOOL -> Uint8Array. A view of `data` when aligned.
 */
export function decodeInt(info: TensorInfo, data: Uint8Array, source?: string, name?: string): IntArray {
  checkLength(info, data);
  switch (info.dtype) {
    case 'I64':
      return leView(data, BigInt64Array);
    case 'I32':
      return leView(data, Int32Array);
    case 'I16':
      return leView(data, Int16Array);
    case 'I8':
      return leView(data, Int8Array);
    case 'U8':
    case 'BOOL':
      return data;
    default:
      throw new QuiverInputError(`dtype ${info.dtype} is not an integer type: read it with float32()`, where(source, name));
  }
}

export interface SafetensorsFile {
  readonly header: SafetensorsHeader;
  /** Tensor names in file order. */
  names(): string[];
  info(name: string): TensorInfo;
  /** The tensor's bytes: a view of the file bytes, not a copy. */
  raw(name: string): Uint8Array;
  /** F32/F16/BF16/F64 as float32; F32 is a view of the file bytes when aligned. */
  float32(name: string): Float32Array;
  int(name: string): IntArray;
}

/** Parses a whole safetensors file held in memory. */
export function readSafetensors(bytes: Uint8Array, source?: string): SafetensorsFile {
  const header = parseSafetensorsHeader(bytes, bytes.length, source);
  const info = (name: string): TensorInfo => {
    const found = header.tensors.get(name);
    if (found === undefined) throw new QuiverInputError('no tensor with this name in the file', where(source, name));
    return found;
  };
  const raw = (name: string): Uint8Array => {
    const [begin, end] = info(name).dataOffsets;
    return bytes.subarray(header.dataStart + begin, header.dataStart + end);
  };
  return {
    header,
    names: () => [...header.tensors.keys()],
    info,
    raw,
    float32: (name) => decodeFloat32(info(name), raw(name), source, name),
    int: (name) => decodeInt(info(name), raw(name), source, name),
  };
}

export type WritableTensor =
  | { name: string; dtype: 'F32' | 'F16' | 'BF16'; shape: number[]; data: Float32Array }
  | { name: string; dtype: 'I32'; shape: number[]; data: Int32Array }
  | { name: string; dtype: 'U8'; shape: number[]; data: Uint8Array };

// The reference writer sorts by its Dtype enum, descending: larger (more aligned) types first, and
// within a size the later variant first (F32 before I32, BF16 before F16).
const WRITE_RANK: Record<WritableTensor['dtype'], number> = { F32: 0, I32: 1, BF16: 2, F16: 3, U8: 4 };

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function tensorBytes(t: WritableTensor): Uint8Array {
  switch (t.dtype) {
    case 'F32':
    case 'I32':
    case 'U8':
      return leBytes(t.data);
    case 'F16':
      return leBytes(encodeF16(t.data));
    case 'BF16':
      return leBytes(encodeBf16(t.data));
  }
}

/**
 * Writes a safetensors file like the reference writer: tensors ordered by dtype (descending
 * alignment) then name (UTF-8 bytes), `__metadata__` first and only when given, header padded with
 * spaces so the data buffer starts at a multiple of 8. Same input, same bytes.
 */
export function serializeSafetensors(tensors: WritableTensor[], metadata?: Record<string, string>): Uint8Array {
  const encoder = new TextEncoder();
  const seen = new Set<string>();
  for (const t of tensors) {
    const at = where(undefined, t.name);
    if (t.name === METADATA_KEY) throw new QuiverInputError(`${METADATA_KEY} is reserved and cannot name a tensor`, at);
    if (seen.has(t.name)) throw new QuiverInputError('duplicate tensor name', at);
    seen.add(t.name);
    if (!Object.hasOwn(WRITE_RANK, t.dtype)) {
      throw new QuiverInputError(`cannot write dtype ${JSON.stringify(t.dtype)} (writable: F32, F16, BF16, I32, U8)`, at);
    }
    if (!Array.isArray(t.shape) || !t.shape.every(isCount)) {
      throw new QuiverInputError(`shape must be an array of non-negative integers, got ${JSON.stringify(t.shape)}`, at);
    }
    const count = elementCount(t.shape);
    if (t.data.length !== count) {
      throw new QuiverInputError(`data has ${t.data.length} values but shape [${t.shape.join(', ')}] needs ${count}`, at);
    }
  }
  if (metadata !== undefined) parseMetadata(metadata, undefined);

  const ordered = tensors
    .map((t) => ({ t, key: encoder.encode(t.name) }))
    .sort((a, b) => WRITE_RANK[a.t.dtype] - WRITE_RANK[b.t.dtype] || compareBytes(a.key, b.key))
    .map(({ t }) => ({ t, bytes: tensorBytes(t) }));

  // Built by hand, not with JSON.stringify(object): objects enumerate integer-like keys ("0") first.
  const fields: string[] = [];
  if (metadata !== undefined) {
    const keys = Object.keys(metadata).sort((a, b) => compareBytes(encoder.encode(a), encoder.encode(b)));
    const body = keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',');
    fields.push(`${JSON.stringify(METADATA_KEY)}:{${body}}`);
  }
  let offset = 0;
  for (const { t, bytes } of ordered) {
    const end = offset + bytes.length;
    fields.push(`${JSON.stringify(t.name)}:${JSON.stringify({ dtype: t.dtype, shape: t.shape, data_offsets: [offset, end] })}`);
    offset = end;
  }
  const json = encoder.encode(`{${fields.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  const dataStart = 8 + headerLength;

  const out = new Uint8Array(dataStart + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLength % 2 ** 32, true);
  view.setUint32(4, Math.floor(headerLength / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, dataStart);
  let at = dataStart;
  for (const { bytes } of ordered) {
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}
