/**
 * The Arrow prototypes of one pool of a trained library's adapters, with the manifest's record of
 * each adapter (kind, tasks, cluster, where it lives in the library): what `quiver compile` writes
 * into manifest.safetensors and what `quiver eval` routes with in memory, made in one place so the
 * two route among the same prototypes.
 */
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { QuiverInputError } from '../../shared/errors.js';
import type { ManifestModuleInput } from '../../shared/manifest/manifest-codec.js';
import type { ManifestAdapter } from '../../shared/manifest/schema.js';
import { LIBRARY_FILE, type LibraryIndex } from '../io/library-index.js';
import { computeAdapterPrototypes } from './adapter-prototypes.js';

export type AdapterPool = 'private' | 'mbc' | 'all';
export const POOLS = ['private', 'mbc', 'all'] as const satisfies readonly AdapterPool[];

interface PoolEntry {
  dir: string;
  /** The manifest's `source`: the adapter's folder inside the library, or null for one outside it. */
  source: string | null;
  kind: 'private' | 'mbc';
  tasks: string[];
  cluster: string | null;
}

/** `private/<task>` as library.json names it; null when it points outside the library (a path of this machine). */
function librarySource(libDir: string, adapter: string): string | null {
  const rel = relative(libDir, resolve(libDir, adapter)).split(sep).join('/');
  return rel === '' || rel.startsWith('../') || rel === '..' || isAbsolute(rel) ? null : rel;
}

function poolEntries(libDir: string, index: LibraryIndex, pool: AdapterPool): PoolEntry[] {
  const out: PoolEntry[] = [];
  const entry = (adapter: string) => ({ dir: resolve(libDir, adapter), source: librarySource(libDir, adapter) });
  if (pool !== 'mbc') for (const t of index.tasks) out.push({ ...entry(t.adapter), kind: 'private', tasks: [t.name], cluster: t.cluster });
  if (pool !== 'private') for (const c of index.clusters) out.push({ ...entry(c.adapter), kind: 'mbc', tasks: [...c.tasks], cluster: c.id });
  if (out.length === 0) throw new QuiverInputError(`the library has no ${pool === 'all' ? '' : `${pool} `}adapters`, join(libDir, LIBRARY_FILE));
  return out;
}

export interface LibraryPrototypes {
  /** In pool order: the private adapters (library.json's task order), then the MBC ones. */
  adapters: ManifestAdapter[];
  /** The routed modules, canonical order. */
  modules: ManifestModuleInput[];
  /** Per module key: row-major [adapters, dIn] (float32, before the manifest rounds them to F16). */
  prototypes: Map<string, Float32Array>;
  /** Modules whose B·A is zero (an untrained adapter): their prototype is arbitrary. */
  degenerate: Array<{ adapter: string; module: string }>;
  /** The adapter folder of the first adapter (errors about the adapters name it). */
  firstDir: string;
}

export interface LibraryPrototypesOptions {
  /** Only modules of layers below this get prototypes (the layers an embedder runs); default all. */
  layers?: number;
  quiet?: boolean;
}

export async function libraryPrototypes(libDir: string, index: LibraryIndex, pool: AdapterPool, opts: LibraryPrototypesOptions = {}): Promise<LibraryPrototypes> {
  const entries = poolEntries(libDir, index, pool);
  const maxLayers = opts.layers ?? Infinity;
  const { records, modules, prototypes, degenerate } = await computeAdapterPrototypes(
    entries.map((e) => e.dir),
    { quiet: opts.quiet, keepModule: (m) => m.layer < maxLayers },
  );
  if (records[0]!.baseModel !== index.baseModel) {
    throw new QuiverInputError(`adapters are for "${records[0]!.baseModel}", library.json says the base is "${index.baseModel}"`, libDir);
  }
  if (modules.length === 0) throw new QuiverInputError(`no routed module lies in the first ${maxLayers} layer(s); raise --layers`, libDir);
  const adapters: ManifestAdapter[] = records.map((r, i) => ({
    id: r.id,
    kind: entries[i]!.kind,
    tasks: entries[i]!.tasks,
    r: r.r,
    loraAlpha: r.loraAlpha,
    cluster: entries[i]!.cluster,
    source: entries[i]!.source,
  }));
  return {
    adapters,
    modules: modules.map((m) => ({ key: m.key, layer: m.layer, module: m.module, dIn: m.dIn })),
    prototypes,
    degenerate,
    firstDir: records[0]!.dir,
  };
}
