/**
 * Per-token Arrow routing inside the model (docs/method.md, "Arrow routing, per token"): at every routed module,
 * for each token's input x, logits_e = |x · v_e| against the module's prototypes, keep the top k,
 * softmax over the kept logits / temperature, then mix the chosen experts:
 *   'outputs'    Σ_e w_e (α_e/r_e) B_e A_e x                      (PEFT's arrow.py)
 *   'parameters' (Σ_e w_e (α/r) B_e)(Σ_e w_e A_e) x, per token    (the reference mttl code)
 * Written for correctness over speed: one module at a time, not fused. All experts' A and B are
 * stacked once, so a module costs two matmuls whatever the number of experts.
 * The per-token |x · v| → top-k softmax step of TensorFlow.js is here, once (arrowLogitsTf,
 * arrowWeightsTf), with shared/arrow/top-k.ts's tie rule; tests hold it to the JavaScript one
 * (shared/arrow/arrow-logits.ts, logit-routing.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { arrowPrototype } from '../../shared/arrow/prototype.js';
import type { RoutingDefaults } from '../../shared/manifest/schema.js';
import type { LlamaConfig } from './config.js';
import type { AdapterDelta } from './llama.js';
import type { LoraModule } from './lora.js';
import { groupLayout, groupOf, parseProjectionKey, type ProjectionGroup, type ProjectionName } from './projections.js';

/**
 * |(x − c) · v_e| in the graph: x [n, dIn], prototypes as columns [dIn, E] → [n, E]; c the module's
 * centre [dIn] (centred routing) or none. The TensorFlow.js twin of shared/arrow/arrow-logits.ts.
 */
export function arrowLogitsTf(x: tf.Tensor2D, protoT: tf.Tensor2D, centre?: tf.Tensor1D | null): tf.Tensor2D {
  return tf.abs(tf.matMul(centre ? (tf.sub(x, centre) as tf.Tensor2D) : x, protoT));
}

/**
 * Per-token top-k softmax of logits [n, E] / temperature in the graph, others 0: the TensorFlow.js
 * twin of shared/arrow/logit-routing.ts, with its tie rule (top-k.ts) whatever the backend's TopK
 * does with ties: every logit above the k-th value is kept, then the tied ones in index order
 * until k are kept. NaN ranks last and weighs 0 (as −∞).
 */
export function arrowWeightsTf(logits: tf.Tensor2D, options: Pick<RoutingDefaults, 'topK' | 'temperature'>): tf.Tensor2D {
  return tf.tidy(() => {
    const k = Math.min(options.topK, logits.shape[1]);
    const z = tf.where(tf.isNaN(logits), tf.fill(logits.shape, -Infinity), logits);
    const kth = tf.slice(tf.topk(z, k).values, [0, k - 1], [-1, 1]); // [n, 1]: the k-th value, exact
    const above = tf.greater(z, kth);
    const tied = tf.equal(z, kth);
    const room = tf.sub(k, tf.sum(tf.cast(above, 'float32'), 1, true)); // [n, 1]: tied logits still kept
    const tieRank = tf.cumsum(tf.cast(tied, 'float32'), 1); // 1 for the first tied logit of a row, 2 for the next…
    const kept = tf.logicalOr(above, tf.logicalAnd(tied, tf.lessEqual(tieRank, room)));
    const e = tf.mul(tf.exp(tf.div(tf.sub(z, tf.max(z, 1, true)), options.temperature)), tf.cast(kept, 'float32'));
    return tf.div(e, tf.sum(e, 1, true)) as tf.Tensor2D;
  });
}

export interface ArrowExpert {
  /** α/r of this adapter. */
  scale: number;
  r: number;
  modules: readonly LoraModule[];
}

export interface ArrowRouterOptions extends Pick<RoutingDefaults, 'topK' | 'temperature'> {
  /** How the chosen experts combine (see the file comment). PEFT's 'outputs' by default. */
  mix?: 'outputs' | 'parameters';
  /** Per routed module key, the centre [dIn] subtracted from its input before |x · v| (the manifest's centres); none: raw inputs. */
  centres?: ReadonlyMap<string, Float32Array>;
}

/** A routed module's experts stacked for two matmuls. */
interface StackedModule {
  name: ProjectionName;
  protoT: tf.Tensor2D; // [dIn, E]: prototypes as columns
  centre: tf.Tensor1D | null; // [dIn], centred routing
  at: tf.Tensor2D; // [dIn, Σ r_e]: every expert's Aᵀ side by side
  b: tf.Tensor2D; // [Σ r_e, dOut]: every expert's (α/r)·Bᵀ stacked
  expand: tf.Tensor2D; // [E, Σ r_e]: 1 where rank row belongs to expert e
}

export class ArrowRouter implements AdapterDelta {
  private readonly groups = new Map<string, StackedModule[]>(); // "layer:group"
  private readonly options: Required<Omit<ArrowRouterOptions, 'centres'>>;
  private readonly experts: number;
  private readonly equalRanks: boolean;

  /**
   * @param prototypes per routed module key, the experts' prototypes row-major [E, dIn] (in expert order)
   */
  constructor(modelConfig: LlamaConfig, experts: readonly ArrowExpert[], prototypes: ReadonlyMap<string, Float32Array>, options: ArrowRouterOptions) {
    this.options = { mix: options.mix ?? 'outputs', topK: options.topK, temperature: options.temperature };
    this.experts = experts.length;
    const E = experts.length;
    if (E === 0) throw new RangeError('Arrow routing needs at least one expert');
    if (!(options.topK >= 1)) throw new RangeError(`topK must be >= 1, got ${options.topK}`);
    if (!(options.temperature > 0)) throw new RangeError(`temperature must be > 0, got ${options.temperature}`);
    this.equalRanks = experts.every((e) => e.r === experts[0]!.r);
    if (this.options.mix === 'parameters' && !this.equalRanks) throw new RangeError("mix 'parameters' sums A matrices: every expert needs the same rank");
    const byKey = experts.map((e) => new Map(e.modules.map((m) => [m.key, m])));
    const ranks = experts.map((e) => e.r);
    const totalRank = ranks.reduce((a, b) => a + b, 0);
    const expand = new Float32Array(E * totalRank);
    let col = 0;
    ranks.forEach((r, e) => {
      for (let k = 0; k < r; k++) expand[e * totalRank + col++] = 1;
    });

    const centreOf = (key: string, dIn: number): tf.Tensor1D | null => {
      const c = options.centres?.get(key);
      if (c === undefined) return null;
      if (c.length !== dIn) throw new RangeError(`the centre of ${key} has ${c.length} values, expected ${dIn}`);
      return tf.tensor1d(c);
    };
    for (const [key, proto] of prototypes) {
      const parsed = parseProjectionKey(key);
      if (!parsed || parsed.layer >= modelConfig.numHiddenLayers) throw new RangeError(`cannot route "${key}": not a projection of this model`);
      const group = groupOf(parsed.name);
      const layout = groupLayout(modelConfig, group);
      const member = layout.members.find((m) => m.name === parsed.name)!;
      const dIn = layout.dIn;
      if (proto.length !== E * dIn) throw new RangeError(`prototypes of ${key} have ${proto.length} values, expected ${E} × ${dIn}`);
      const at = new Float32Array(dIn * totalRank);
      const b = new Float32Array(totalRank * member.dOut);
      let base = 0;
      experts.forEach((expert, e) => {
        const m = byKey[e]!.get(key);
        if (!m) throw new RangeError(`expert ${e} has no LoRA on ${key}, which is routed`);
        const r = expert.r;
        if (m.a.length !== r * dIn || m.b.length !== member.dOut * r) throw new RangeError(`expert ${e}, ${key}: A/B sizes do not fit rank ${r} on ${member.dOut}×${dIn}`);
        for (let k = 0; k < r; k++) {
          for (let i = 0; i < dIn; i++) at[i * totalRank + base + k] = m.a[k * dIn + i]!;
          for (let o = 0; o < member.dOut; o++) b[(base + k) * member.dOut + o] = expert.scale * m.b[o * r + k]!;
        }
        base += r;
      });
      const protoT = new Float32Array(dIn * E);
      for (let e = 0; e < E; e++) for (let i = 0; i < dIn; i++) protoT[i * E + e] = proto[e * dIn + i]!;
      const slot = `${parsed.layer}:${group}`;
      this.groups.set(slot, [
        ...(this.groups.get(slot) ?? []),
        {
          name: parsed.name,
          protoT: tf.tensor2d(protoT, [dIn, E]),
          centre: centreOf(key, dIn),
          at: tf.tensor2d(at, [dIn, totalRank]),
          b: tf.tensor2d(b, [totalRank, member.dOut]),
          expand: tf.tensor2d(expand, [E, totalRank]),
        },
      ]);
    }
  }

  private moduleDelta(x: tf.Tensor2D, m: StackedModule): tf.Tensor2D {
    const w = arrowWeightsTf(arrowLogitsTf(x, m.protoT, m.centre), this.options); // [n, E]
    const u = tf.matMul(x, m.at); // [n, Σr]: every expert's A x
    if (this.options.mix === 'outputs') {
      return tf.matMul(tf.mul(u, tf.matMul(w, m.expand)), m.b); // Σ_e w_e B_e A_e x
    }
    const n = x.shape[0];
    const E = this.experts;
    const r = m.at.shape[1] / E;
    const w3 = tf.reshape(w, [n, E, 1]);
    const aMix = tf.sum(tf.mul(tf.reshape(u, [n, E, r]), w3), 1, true); // [n, 1, r]: (Σ_e w_e A_e) x
    return tf.matMul(tf.reshape(tf.mul(w3, aMix), [n, E * r]), m.b); // (Σ_e w_e B_e)(Σ w A) x
  }

  deltas(layer: number, group: ProjectionGroup, x: tf.Tensor2D): Partial<Record<ProjectionName, tf.Tensor2D>> | null {
    const modules = this.groups.get(`${layer}:${group}`);
    if (!modules) return null;
    return Object.fromEntries(modules.map((m) => [m.name, this.moduleDelta(x, m)]));
  }

  dispose(): void {
    for (const g of this.groups.values()) for (const m of g) tf.dispose([m.protoT, m.at, m.b, m.expand, ...(m.centre ? [m.centre] : [])]);
    this.groups.clear();
  }
}

/** Arrow prototypes of every module the experts share: key → row-major [E, dIn]. */
export function arrowPrototypes(modelConfig: LlamaConfig, experts: readonly ArrowExpert[]): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  const first = experts[0];
  if (!first) return out;
  for (const { key } of first.modules) {
    const parsed = parseProjectionKey(key);
    if (!parsed) continue;
    const layout = groupLayout(modelConfig, groupOf(parsed.name));
    const dOut = layout.members.find((m) => m.name === parsed.name)!.dOut;
    const protos = new Float32Array(experts.length * layout.dIn);
    experts.forEach((e, i) => {
      const m = e.modules.find((mm) => mm.key === key);
      if (!m) throw new RangeError(`expert ${i} has no LoRA on ${key}`);
      protos.set(arrowPrototype(m.a, m.b, e.r, layout.dIn, dOut).vector, i * layout.dIn);
    });
    out.set(key, protos);
  }
  return out;
}
