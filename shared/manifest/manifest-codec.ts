import { canonicalJson } from '../canonical-json.js';
import { QuiverInputError } from '../errors.js';
import { decodeF16, encodeF16 } from '../half.js';
import { readSafetensors, serializeSafetensors } from '../safetensors.js';
import { sha256Hex } from '../sha256.js';
import { formatZodError } from '../zod-error.js';
import {
  MANIFEST_FORMAT,
  MANIFEST_METADATA_KEY,
  MANIFEST_VERSION,
  ManifestMetadata,
  type EmbedderRef,
  type ManifestAdapter,
  type RoutingDefaults,
} from './schema.js';

export interface ManifestModuleInput {
  key: string;
  layer: number;
  module: string;
  dIn: number;
}

export interface ManifestInput {
  baseModel: string;
  embedder: EmbedderRef | null;
  modules: ManifestModuleInput[];
  adapters: ManifestAdapter[];
  routing: RoutingDefaults;
  /** Per module key: row-major [adapters, dIn] prototypes, rows in `adapters` order. */
  prototypes: ReadonlyMap<string, Float32Array>;
  /** Per module key: the input centre [dIn] (stored as F32); a module without one routes on its raw input. */
  centres?: ReadonlyMap<string, Float32Array>;
}

export interface Manifest {
  metadata: ManifestMetadata;
  /** Per module key: row-major [adapters, dIn], decoded from F16. */
  prototypes: Map<string, Float32Array>;
  /** Per module key with a centre: [dIn]. */
  centres: Map<string, Float32Array>;
}

export function prototypeTensorName(moduleKey: string): string {
  return `prototypes.${moduleKey}`;
}

export function centreTensorName(moduleKey: string): string {
  return `centres.${moduleKey}`;
}

function f32Bytes(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function leBytes(a: Uint16Array): Uint8Array {
  // F16 payloads are little-endian on disk; every runtime Quiver targets is little-endian, which
  // the safetensors writer checks too.
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Over the canonical metadata, every prototype's F16 bytes, then every centre's F32 bytes, in module order. */
async function checksum(metadataWithoutChecksum: Omit<ManifestMetadata, 'checksum'>, f16: ReadonlyArray<Uint16Array>, centres: ReadonlyArray<Float32Array>): Promise<string> {
  const head = new TextEncoder().encode(canonicalJson(metadataWithoutChecksum));
  return `sha256:${await sha256Hex([head, ...f16.map(leBytes), ...centres.map(f32Bytes)])}`;
}

/** Builds the manifest file's bytes. Same input, same bytes: no timestamps, sorted keys. */
export async function encodeManifest(input: ManifestInput): Promise<Uint8Array> {
  const ids = new Set<string>();
  for (const a of input.adapters) {
    if (ids.has(a.id)) throw new QuiverInputError(`adapter id "${a.id}" appears twice`, 'manifest');
    ids.add(a.id);
  }
  const keys = new Set<string>();
  const f16: Uint16Array[] = [];
  for (const m of input.modules) {
    if (keys.has(m.key)) throw new QuiverInputError(`module "${m.key}" appears twice`, 'manifest');
    keys.add(m.key);
    const p = input.prototypes.get(m.key);
    if (!p) throw new QuiverInputError(`no prototypes for module "${m.key}"`, 'manifest');
    if (p.length !== input.adapters.length * m.dIn)
      throw new QuiverInputError(`prototypes for "${m.key}" have ${p.length} values, expected ${input.adapters.length} adapters × ${m.dIn}`, 'manifest');
    f16.push(encodeF16(p));
  }
  const centres: Array<{ key: string; dIn: number; data: Float32Array }> = [];
  for (const [key, c] of input.centres ?? []) {
    const m = input.modules.find((x) => x.key === key);
    if (!m) throw new QuiverInputError(`a centre is given for "${key}", which is not a routed module`, 'manifest');
    if (c.length !== m.dIn) throw new QuiverInputError(`the centre of "${key}" has ${c.length} values, expected d_in ${m.dIn}`, 'manifest');
    if (!c.every(Number.isFinite)) throw new QuiverInputError(`the centre of "${key}" is not finite`, 'manifest');
  }
  for (const m of input.modules) {
    const c = input.centres?.get(m.key);
    if (c) centres.push({ key: m.key, dIn: m.dIn, data: Float32Array.from(c) });
  }
  const body = {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    baseModel: input.baseModel,
    embedder: input.embedder,
    modules: input.modules.map((m) => ({
      key: m.key,
      layer: m.layer,
      module: m.module,
      dIn: m.dIn,
      tensor: prototypeTensorName(m.key),
      centre: input.centres?.has(m.key) ? centreTensorName(m.key) : null,
    })),
    adapters: input.adapters,
    routing: input.routing,
  } as const;
  const metadata: ManifestMetadata = { ...body, checksum: await checksum(body, f16, centres.map((c) => c.data)) };
  const parsed = ManifestMetadata.safeParse(metadata);
  if (!parsed.success) throw new QuiverInputError(formatZodError(parsed.error), 'manifest');
  return serializeSafetensors(
    [
      ...input.modules.map((m, i) => ({
        name: prototypeTensorName(m.key),
        dtype: 'F16' as const,
        shape: [input.adapters.length, m.dIn],
        data: decodeF16(f16[i]!), // exact in F16, so the writer's re-encoding gives the checksummed bytes
      })),
      ...centres.map((c) => ({ name: centreTensorName(c.key), dtype: 'F32' as const, shape: [c.dIn], data: c.data })),
    ],
    { [MANIFEST_METADATA_KEY]: canonicalJson(metadata) },
  );
}

/**
 * Reads and checks a manifest: format, version, shapes and checksum. Any mismatch is a
 * QuiverInputError naming `source` and what is wrong.
 */
export async function decodeManifest(bytes: Uint8Array, source = 'manifest'): Promise<Manifest> {
  const file = readSafetensors(bytes, source);
  const raw = file.header.metadata[MANIFEST_METADATA_KEY];
  if (raw === undefined)
    throw new QuiverInputError(`not a Quiver routing manifest: no "${MANIFEST_METADATA_KEY}" entry in the safetensors metadata`, source);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new QuiverInputError(`the "${MANIFEST_METADATA_KEY}" metadata is not valid JSON (${(err as Error).message})`, source);
  }
  if (typeof json === 'object' && json !== null) {
    const { format, version } = json as { format?: unknown; version?: unknown };
    if (format !== MANIFEST_FORMAT) throw new QuiverInputError(`format is ${JSON.stringify(format)}, expected "${MANIFEST_FORMAT}"`, source);
    if (version !== MANIFEST_VERSION)
      throw new QuiverInputError(
        typeof version === 'number' && version < MANIFEST_VERSION
          ? `manifest version ${version} is older than this Quiver reads (version ${MANIFEST_VERSION}, which records how routing counts its votes): recompile it with \`quiver compile <library> --out <folder>\` (or rebuild it with \`quiver import\`)`
          : `manifest version ${JSON.stringify(version)} is not supported by this Quiver (it reads version ${MANIFEST_VERSION}); rebuild the manifest with this version or upgrade`,
        source,
      );
  }
  const parsed = ManifestMetadata.safeParse(json);
  if (!parsed.success) throw new QuiverInputError(`invalid manifest metadata: ${formatZodError(parsed.error)}`, source);
  const metadata = parsed.data;
  const e = metadata.adapters.length;
  const ids = new Set<string>();
  for (const a of metadata.adapters) {
    if (ids.has(a.id)) throw new QuiverInputError(`adapter id "${a.id}" appears twice`, source);
    ids.add(a.id);
  }
  const expected = new Set(metadata.modules.flatMap((m) => (m.centre === null ? [m.tensor] : [m.tensor, m.centre])));
  for (const name of file.names())
    if (!expected.has(name)) throw new QuiverInputError(`tensor "${name}" is not a routed module of this manifest`, source);
  const f16: Uint16Array[] = [];
  const prototypes = new Map<string, Float32Array>();
  for (const m of metadata.modules) {
    if (prototypes.has(m.key)) throw new QuiverInputError(`module "${m.key}" appears twice`, source);
    if (!file.header.tensors.has(m.tensor)) throw new QuiverInputError(`prototype tensor "${m.tensor}" of module "${m.key}" is missing`, source);
    const info = file.info(m.tensor);
    if (info.dtype !== 'F16') throw new QuiverInputError(`prototype tensor "${m.tensor}" is ${info.dtype}, expected F16`, source);
    if (info.shape.length !== 2 || info.shape[0] !== e || info.shape[1] !== m.dIn)
      throw new QuiverInputError(
        `prototype tensor "${m.tensor}" has shape [${info.shape.join(', ')}], expected [${e}, ${m.dIn}] (adapters × d_in)`,
        source,
      );
    const rawBytes = file.raw(m.tensor);
    const half = new Uint16Array(e * m.dIn);
    new Uint8Array(half.buffer).set(rawBytes);
    f16.push(half);
    prototypes.set(m.key, decodeF16(half));
  }
  const centres = new Map<string, Float32Array>();
  for (const m of metadata.modules) {
    if (m.centre === null) continue;
    if (!file.header.tensors.has(m.centre)) throw new QuiverInputError(`centre tensor "${m.centre}" of module "${m.key}" is missing`, source);
    const info = file.info(m.centre);
    if (info.dtype !== 'F32') throw new QuiverInputError(`centre tensor "${m.centre}" is ${info.dtype}, expected F32`, source);
    if (info.shape.length !== 1 || info.shape[0] !== m.dIn)
      throw new QuiverInputError(`centre tensor "${m.centre}" has shape [${info.shape.join(', ')}], expected [${m.dIn}] (d_in)`, source);
    const c = new Float32Array(m.dIn);
    new Uint8Array(c.buffer).set(file.raw(m.centre));
    centres.set(m.key, c);
  }
  const { checksum: stored, ...body } = metadata;
  const actual = await checksum(body, f16, [...centres.values()]);
  if (actual !== stored)
    throw new QuiverInputError(`checksum mismatch: the file says ${stored} but its content hashes to ${actual} (corrupted or edited)`, source);
  return { metadata, prototypes, centres };
}
