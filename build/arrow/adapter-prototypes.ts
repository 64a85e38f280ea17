/**
 * Arrow prototypes of a set of PEFT adapters, as `quiver import` and `quiver compile` compute them.
 * Two passes: read every header (cheap) to check that all fit one base, then stream one adapter at
 * a time computing its prototypes in float64, so memory is one adapter plus the prototypes.
 */
import { arrowPrototype } from '../../shared/arrow/prototype.js';
import { checkSameBase, openPeftAdapter, type LoraModuleRef } from '../io/peft-adapter.js';
import { createProgress } from '../progress.js';

/** Adapter metadata kept after its file is closed. */
export interface AdapterRecord {
  dir: string;
  id: string;
  baseModel: string;
  r: number;
  loraAlpha: number;
  modules: LoraModuleRef[];
}

export interface AdapterPrototypes {
  /** In input order. */
  records: AdapterRecord[];
  /** The routed modules (canonical order), after `keepModule`. */
  modules: LoraModuleRef[];
  /** Per module key: row-major [adapters, dIn], rows in `records` order. */
  prototypes: Map<string, Float32Array>;
  /** Modules whose B·A is zero (an untrained adapter): their prototype is arbitrary. */
  degenerate: Array<{ adapter: string; module: string }>;
  msPerAdapter: number;
}

export interface AdapterPrototypesOptions {
  quiet?: boolean;
  /** Only these modules get prototypes (e.g. the layers an embedder runs); default all. */
  keepModule?: (m: LoraModuleRef) => boolean;
}

async function describeAdapter(dir: string): Promise<AdapterRecord> {
  const h = await openPeftAdapter(dir);
  await h.close();
  return { dir: h.dir, id: h.id, baseModel: h.baseModel, r: h.config.r, loraAlpha: h.config.lora_alpha, modules: h.modules };
}

export async function computeAdapterPrototypes(dirs: readonly string[], opts: AdapterPrototypesOptions = {}): Promise<AdapterPrototypes> {
  const records: AdapterRecord[] = [];
  for (const d of dirs) records.push(await describeAdapter(d));
  checkSameBase(records);
  const keep = opts.keepModule ?? (() => true);
  const modules = records[0]!.modules.filter(keep);
  const e = records.length;
  const prototypes = new Map(modules.map((m) => [m.key, new Float32Array(e * m.dIn)]));
  const degenerate: Array<{ adapter: string; module: string }> = [];
  const progress = createProgress(e, { quiet: opts.quiet });
  const start = Date.now();
  for (let i = 0; i < e; i++) {
    const rec = records[i]!;
    const h = await openPeftAdapter(rec.dir);
    try {
      for (const m of h.modules) {
        const out = prototypes.get(m.key);
        if (!out) continue;
        const { a, b } = await h.readModule(m.key);
        const p = arrowPrototype(a, b, m.r, m.dIn, m.dOut);
        if (p.sigma === 0) degenerate.push({ adapter: rec.id, module: m.key });
        out.set(p.vector, i * m.dIn);
      }
    } finally {
      await h.close();
    }
    progress.step(rec.id);
  }
  progress.done();
  return { records, modules, prototypes, degenerate, msPerAdapter: (Date.now() - start) / e };
}
