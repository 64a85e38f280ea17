/**
 * A trained library loaded for evaluation in one process: the base model, every private and MBC
 * adapter, and — built on first use, then kept — what each system puts on the model (eval-systems.ts).
 */
import { resolve } from 'node:path';
import type { RoutingDefaults } from '../../shared/manifest/schema.js';
import type { Tokenizer } from '../../shared/tokenizer/tokenizer.js';
import { openPeftAdapter } from '../io/peft-adapter.js';
import { ArrowRouter, type ArrowExpert } from '../model/arrow-router.js';
import { loadCheckpoint } from '../model/checkpoint.js';
import type { AdapterDelta, LlamaModel } from '../model/llama.js';
import { Lora, mergeLoras, type LoraModule } from '../model/lora.js';
import { readLibraryIndex, type LibraryIndex } from '../io/library-index.js';
import type { SystemId } from './eval-systems.js';
import type { EvalTask } from './eval-tasks.js';
import { privatePoolManifest, PromptRouter, type PromptRouting } from './prompt-routing.js';
import { libraryInputCentres, libraryTrainingPrompts } from '../arrow/input-centres.js';
import { scaledArrowPrototypes } from '../arrow/logit-scales.js';
import { fixedAdapter, type RowAdapter } from './row-adapter.js';
import { RowMix } from './row-mix.js';


interface AdapterSet {
  ids: string[];
  loras: Lora[];
  experts: ArrowExpert[];
}

async function loadAdapters(libraryDir: string, entries: readonly { id: string; adapter: string }[], model: LlamaModel): Promise<AdapterSet> {
  const set: AdapterSet = { ids: [], loras: [], experts: [] };
  for (const e of entries) {
    const handle = await openPeftAdapter(resolve(libraryDir, e.adapter));
    try {
      const modules: LoraModule[] = [];
      for (const m of handle.modules) modules.push({ key: m.key, ...(await handle.readModule(m.key)) });
      const c = handle.config;
      set.ids.push(e.id);
      set.loras.push(Lora.fromModules(model.config, { r: c.r, loraAlpha: c.lora_alpha, loraDropout: 0 }, modules));
      set.experts.push({ r: c.r, scale: c.lora_alpha / c.r, modules });
    } finally {
      await handle.close();
    }
  }
  return set;
}

export class EvalLibrary {
  private readonly built = new Map<string, { adapter: RowAdapter; dispose(): void }>();
  private promptRouter: PromptRouter | null = null;
  private rowMixInstance: RowMix | null = null;

  private constructor(
    readonly libraryDir: string,
    readonly index: LibraryIndex,
    readonly model: LlamaModel,
    readonly tokenizer: Tokenizer,
    readonly privates: AdapterSet,
    readonly mbc: AdapterSet,
    readonly settings: Pick<RoutingDefaults, 'topK' | 'temperature' | 'votes'>,
    /** Per routed module, the centre compile stores (centred routing), for request-level and per-token Arrow alike. */
    readonly centres: ReadonlyMap<string, Float32Array>,
    /** The training prompts compile reads for the centres and the logit scales (libraryTrainingPrompts). */
    private readonly trainingPrompts: number[][][],
  ) {}

  private readonly scaledPools = new Map<'private' | 'mbc', { scales: Map<string, Float32Array>; prototypes: Map<string, Float32Array> }>();

  /** A pool's prototypes scaled as compile scales them (logit-scales.ts), and the scales: made on first use, then kept. */
  private scaledPool(pool: 'private' | 'mbc'): { scales: Map<string, Float32Array>; prototypes: Map<string, Float32Array> } {
    let p = this.scaledPools.get(pool);
    if (!p) {
      p = scaledArrowPrototypes(this.model, (pool === 'private' ? this.privates : this.mbc).experts, this.trainingPrompts, this.centres, this.tokenizer.padId ?? 0);
      this.scaledPools.set(pool, p);
    }
    return p;
  }

  /** The logit scales of the private pool, as compile computes them, for the request-level manifest. */
  get privateScales(): ReadonlyMap<string, Float32Array> {
    return this.scaledPool('private').scales;
  }

  static async load(libraryDir: string, settings: Pick<RoutingDefaults, 'topK' | 'temperature' | 'votes'>): Promise<EvalLibrary> {
    const index = await readLibraryIndex(libraryDir);
    const { model, tokenizer } = await loadCheckpoint(resolve(libraryDir, index.base));
    try {
      const privates = await loadAdapters(libraryDir, index.tasks.map((t) => ({ id: t.name, adapter: t.adapter })), model);
      const mbc = await loadAdapters(libraryDir, index.clusters.map((c) => ({ id: c.id, adapter: c.adapter })), model);
      const routed = privates.experts[0]?.modules.map((m) => m.key) ?? [];
      const centres = routed.length === 0 ? new Map<string, Float32Array>() : await libraryInputCentres(libraryDir, index, model, tokenizer, routed);
      const prompts = routed.length === 0 ? [] : await libraryTrainingPrompts(libraryDir, index, tokenizer);
      return new EvalLibrary(libraryDir, index, model, tokenizer, privates, mbc, settings, centres, prompts);
    } catch (err) {
      model.dispose();
      throw err;
    }
  }

  /**
   * Request-level routing over the private adapters, as `quiver route` runs it on the compiled
   * private pool: an in-memory manifest (F16 prototypes) with this eval's top-k and temperature and
   * no threshold (every request gets an adapter), embedded by the TensorFlow.js base model.
   */
  async requestRouter(): Promise<PromptRouter> {
    if (!this.promptRouter) {
      const manifest = await privatePoolManifest(this.libraryDir, this.index, { ...this.settings, threshold: 0 }, this.centres, this.privateScales);
      const router = new PromptRouter(this.model, this.tokenizer, manifest);
      if (router.adapterIds.join() !== this.privates.ids.join()) {
        router.dispose();
        throw new Error(`the routing manifest's adapters (${router.adapterIds.join(', ')}) are not the library's tasks in order (${this.privates.ids.join(', ')})`);
      }
      this.promptRouter = router;
    }
    return this.promptRouter;
  }

  /**
   * What `system` puts on the model for `task`. Request-level systems need the task's routing
   * (one entry per example, routePrompts over the private adapters); the family oracle the private
   * adapter it chose (family-oracle.ts).
   */
  adapterFor(system: SystemId, task: EvalTask, routing: readonly PromptRouting[] | null, familyChoice: number | null = null): RowAdapter {
    switch (system) {
      case 'base':
        return fixedAdapter(null);
      case 'oracle': {
        if (task.ownAdapter === null) throw new RangeError(`the oracle needs the task's own adapter; "${task.name}" has none (held-out)`);
        return fixedAdapter(this.privates.loras[task.ownAdapter]!);
      }
      case 'family-oracle': {
        if (familyChoice === null || !task.familyAdapters.includes(familyChoice)) {
          throw new RangeError(`the family oracle needs one of the private adapters of "${task.targetFamily}" chosen for "${task.name}"`);
        }
        return fixedAdapter(this.privates.loras[familyChoice]!);
      }
      case 'private-mu':
        return this.cached(system, () => this.fixed(mergeLoras(this.privates.loras, this.privates.loras.map(() => 1 / this.privates.loras.length))));
      case 'mbc-mu':
        return this.cached(system, () => this.fixed(mergeLoras(this.mbc.loras, this.mbc.loras.map(() => 1 / this.mbc.loras.length))));
      case 'private-arrow':
      case 'private-arrow-outputs':
        return this.cached(system, () => {
          const mix = system === 'private-arrow' ? 'parameters' : 'outputs';
          return this.fixed(new ArrowRouter(this.model.config, this.privates.experts, this.scaledPool('private').prototypes, { ...this.settings, mix, centres: this.centres }));
        });
      case 'mbc-arrow':
        return this.cached(system, () =>
          this.fixed(new ArrowRouter(this.model.config, this.mbc.experts, this.scaledPool('mbc').prototypes, { ...this.settings, mix: 'parameters', centres: this.centres })),
        );
      case 'private-req-top1':
      case 'private-req-topk': {
        if (!routing || routing.length !== task.examples.length) throw new RangeError(`${system} needs one routing per example of "${task.name}"`);
        const rowMix = this.rowMix();
        const E = this.privates.experts.length;
        const top1 = system === 'private-req-top1';
        return (rows) => {
          const w = new Float32Array(rows.length * E);
          rows.forEach((row, b) => {
            const selected = routing[row]!.selected; // empty below the threshold: the base model
            if (top1 && selected.length > 0) w[b * E + selected[0]!.index] = 1;
            else if (!top1) for (const s of selected) w[b * E + s.index] = s.weight;
          });
          const delta = rowMix.forRows(w, rows.length);
          return { delta, release: () => delta.dispose() };
        };
      }
    }
  }

  private rowMix(): RowMix {
    this.rowMixInstance ??= new RowMix(this.model.config, this.privates.experts);
    return this.rowMixInstance;
  }

  private fixed(delta: AdapterDelta & { dispose(): void }): { adapter: RowAdapter; dispose(): void } {
    return { adapter: fixedAdapter(delta), dispose: () => delta.dispose() };
  }

  private cached(key: string, make: () => { adapter: RowAdapter; dispose(): void }): RowAdapter {
    let entry = this.built.get(key);
    if (!entry) {
      entry = make();
      this.built.set(key, entry);
    }
    return entry.adapter;
  }

  dispose(): void {
    for (const b of this.built.values()) b.dispose();
    this.built.clear();
    this.rowMixInstance?.dispose();
    this.rowMixInstance = null;
    this.promptRouter?.dispose();
    this.promptRouter = null;
    for (const l of [...this.privates.loras, ...this.mbc.loras]) l.dispose();
    this.model.dispose();
  }
}
