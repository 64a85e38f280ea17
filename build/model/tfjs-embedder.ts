/**
 * An Embedder (shared/router/embedder.ts) over the TensorFlow.js model: the inputs of the
 * manifest's routed modules as the model captures them, and |x · v_e| against the manifest's
 * prototypes (arrowLogitsTf, the graph's one |x · v|) — what the ONNX embedder computes, in the
 * runtime the library was trained in. `quiver eval` routes with it through
 * shared/router/route-request.ts, the code `quiver route` and the edge run; `quiver compile`
 * checks the ONNX embedder against it.
 *
 * The calls made before the event loop turns run as padded batches of distinct prompts (right
 * padding: causal attention leaves each prompt's own positions as they are alone), so routing a
 * task's prompts with `Promise.all` costs one forward pass per chunk, not one per prompt.
 */
import * as tf from '@tensorflow/tfjs';
import type { Manifest } from '../../shared/manifest/manifest-codec.js';
import type { Embedder } from '../../shared/router/embedder.js';
import { arrowLogitsTf } from './arrow-router.js';
import type { LlamaModel } from './llama.js';
import { groupLayout, groupOf, parseProjectionKey } from './projections.js';

export interface TfjsEmbedderOptions {
  /** The id right-padding fills batches with (any id of the vocabulary: causal attention never reads it). */
  padId: number;
  /** Prompts per forward pass (default 128). */
  maxBatch?: number;
}

interface Pending {
  ids: readonly number[];
  resolve(logits: Map<string, Float32Array>): void;
  reject(err: unknown): void;
}

export class TfjsEmbedder implements Embedder {
  private readonly keys: string[];
  private readonly protoT: tf.Tensor2D[]; // per module [dIn, adapters]
  private readonly centreT: Array<tf.Tensor1D | null>; // per module [dIn], or none
  private readonly adapters: number;
  private readonly maxBatch: number;
  private pending: Pending[] = [];
  private scheduled = false;

  constructor(
    private readonly model: LlamaModel,
    manifest: Pick<Manifest, 'metadata' | 'prototypes' | 'centres'>,
    private readonly options: TfjsEmbedderOptions,
  ) {
    const { modules, adapters } = manifest.metadata;
    this.adapters = adapters.length;
    this.maxBatch = options.maxBatch ?? 128;
    const config = model.config;
    for (const m of modules) {
      const parsed = parseProjectionKey(m.key);
      if (!parsed || parsed.layer >= config.numHiddenLayers) throw new RangeError(`routed module "${m.key}" is not a projection of this model`);
      const dIn = groupLayout(config, groupOf(parsed.name)).dIn;
      if (dIn !== m.dIn) throw new RangeError(`routed module "${m.key}" has d_in ${m.dIn} in the manifest, ${dIn} in the model`);
    }
    this.keys = modules.map((m) => m.key);
    this.protoT = modules.map((m) => {
      const p = manifest.prototypes.get(m.key);
      if (!p || p.length !== this.adapters * m.dIn) throw new RangeError(`no prototypes [${this.adapters}, ${m.dIn}] for "${m.key}"`);
      return tf.tidy(() => tf.transpose(tf.tensor2d(p, [this.adapters, m.dIn])) as tf.Tensor2D);
    });
    this.centreT = modules.map((m) => {
      const c = manifest.centres.get(m.key);
      if (c === undefined) return null;
      if (c.length !== m.dIn) throw new RangeError(`the centre of "${m.key}" has ${c.length} values, its input ${m.dIn}`);
      return tf.tensor1d(c);
    });
  }

  run(ids: readonly number[]): Promise<Map<string, Float32Array>> {
    if (ids.length === 0) return Promise.reject(new RangeError('the embedder needs at least one token'));
    return new Promise((resolve, reject) => {
      this.pending.push({ ids, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    const calls = this.pending;
    this.pending = [];
    this.scheduled = false;
    const byPrompt = new Map<string, Pending[]>();
    for (const c of calls) {
      const key = c.ids.join(',');
      byPrompt.set(key, [...(byPrompt.get(key) ?? []), c]);
    }
    const prompts = [...byPrompt.values()];
    for (let start = 0; start < prompts.length; start += this.maxBatch) {
      const chunk = prompts.slice(start, start + this.maxBatch);
      try {
        const results = this.forward(chunk.map((c) => c[0]!.ids));
        chunk.forEach((c, i) => c.forEach((p) => p.resolve(results[i]!)));
      } catch (err) {
        for (const c of chunk) for (const p of c) p.reject(err);
      }
    }
  }

  /** Arrow logits of each prompt: per module key, row-major [prompt length, adapters]. */
  private forward(prompts: ReadonlyArray<readonly number[]>): Map<string, Float32Array>[] {
    const B = prompts.length;
    const T = Math.max(...prompts.map((p) => p.length));
    const E = this.adapters;
    const ids = new Int32Array(B * T).fill(this.options.padId);
    prompts.forEach((p, b) => ids.set(p, b * T));
    // Read inside tidy, kept outside it: tidy walks every element of a returned typed array.
    let logits: Float32Array[] = [];
    tf.tidy(() => {
      const { captures } = this.model.hiddenStates({ ids, batchSize: B, seqLen: T }, { captures: this.keys });
      logits = this.keys.map((key, j) => {
        const x = captures[key]!; // [B, T, dIn]
        return arrowLogitsTf(tf.reshape(x, [B * T, x.shape[2]]), this.protoT[j]!, this.centreT[j]).dataSync() as Float32Array; // [B·T, E]
      });
    });
    return prompts.map((p, b) => new Map(this.keys.map((key, j) => [key, logits[j]!.slice(b * T * E, (b * T + p.length) * E)])));
  }

  dispose(): void {
    tf.dispose(this.protoT);
    tf.dispose(this.centreT.filter((c): c is tf.Tensor1D => c !== null));
  }
}
