/**
 * Adapters merged per batch row, in parameter space: row b gets ΔW_b = (α/r)(Σ_e w_be B_e)(Σ_e w_be A_e),
 * the same for every token of the row. With one row's weights this is exactly LoRAX's `linear`
 * merge of a request (docs/interfaces.md, "Serving backends") and mergeLoras; with one-hot weights it is one adapter. So a
 * whole batch of requests, each routed to its own adapters, runs in one forward pass.
 * All experts' A and B are stacked once per module, as in arrow-router.ts: a module costs two
 * matmuls whatever the number of experts.
 */
import * as tf from '@tensorflow/tfjs';
import type { ArrowExpert } from '../model/arrow-router.js';
import type { LlamaConfig } from '../model/config.js';
import type { AdapterDelta } from '../model/llama.js';
import { groupLayout, groupOf, parseProjectionKey, type ProjectionGroup, type ProjectionName } from '../model/projections.js';

interface StackedModule {
  name: ProjectionName;
  at: tf.Tensor2D; // [dIn, E·r]: every expert's Aᵀ side by side
  b: tf.Tensor2D; // [E·r, dOut]: every expert's (α/r)·Bᵀ stacked
}

/** A delta for one batch; dispose it after the forward passes that use it. */
export interface RowMixDelta extends AdapterDelta {
  dispose(): void;
}

export class RowMix {
  readonly experts: number;
  private readonly r: number;
  private readonly groups = new Map<string, StackedModule[]>(); // "layer:group"
  private readonly expand: tf.Tensor2D; // [E, E·r]: 1 where a rank column belongs to expert e
  private readonly sumExperts: tf.Tensor2D; // [E·r, r]: Σ over experts of each rank column (no reshape + sum)
  private readonly tileExperts: tf.Tensor2D; // [r, E·r]: its transpose, copies r columns to every expert (no tile)

  constructor(modelConfig: LlamaConfig, experts: readonly ArrowExpert[]) {
    const first = experts[0];
    if (!first) throw new RangeError('a row mix needs at least one expert');
    if (!experts.every((e) => e.r === first.r && e.scale === first.scale)) {
      throw new RangeError('a parameter mix needs every expert to have the same r and lora_alpha (LoRAX requires it too)');
    }
    const E = experts.length;
    const r = first.r;
    this.experts = E;
    this.r = r;
    const expand = new Float32Array(E * E * r);
    for (let e = 0; e < E; e++) for (let k = 0; k < r; k++) expand[e * E * r + e * r + k] = 1;
    this.expand = tf.tensor2d(expand, [E, E * r]);
    const sum = new Float32Array(E * r * r);
    for (let e = 0; e < E; e++) for (let k = 0; k < r; k++) sum[(e * r + k) * r + k] = 1;
    this.sumExperts = tf.tensor2d(sum, [E * r, r]);
    this.tileExperts = tf.transpose(this.sumExperts);
    const byKey = experts.map((e) => new Map(e.modules.map((m) => [m.key, m])));
    for (const { key } of first.modules) {
      const parsed = parseProjectionKey(key);
      if (!parsed) throw new RangeError(`"${key}" is not a projection of a Llama layer`);
      const group = groupOf(parsed.name);
      const layout = groupLayout(modelConfig, group);
      const dIn = layout.dIn;
      const dOut = layout.members.find((m) => m.name === parsed.name)!.dOut;
      const at = new Float32Array(dIn * E * r);
      const b = new Float32Array(E * r * dOut);
      experts.forEach((expert, e) => {
        const m = byKey[e]!.get(key);
        if (!m) throw new RangeError(`expert ${e} has no LoRA on ${key}`);
        if (m.a.length !== r * dIn || m.b.length !== dOut * r) throw new RangeError(`expert ${e}, ${key}: A/B sizes do not fit rank ${r} on ${dOut}×${dIn}`);
        for (let k = 0; k < r; k++) {
          for (let i = 0; i < dIn; i++) at[i * E * r + e * r + k] = m.a[k * dIn + i]!;
          for (let o = 0; o < dOut; o++) b[(e * r + k) * dOut + o] = expert.scale * m.b[o * r + k]!;
        }
      });
      const slot = `${parsed.layer}:${group}`;
      this.groups.set(slot, [...(this.groups.get(slot) ?? []), { name: parsed.name, at: tf.tensor2d(at, [dIn, E * r]), b: tf.tensor2d(b, [E * r, dOut]) }]);
    }
  }

  /**
   * The delta for a batch whose row b mixes the experts with weights[b·E .. b·E + E) (batch-major
   * rows, as TokenBatch; the model's rows are time-major, row = t·B + b).
   */
  forRows(weights: Float32Array, batchSize: number): RowMixDelta {
    const E = this.experts;
    if (weights.length !== batchSize * E) throw new RangeError(`row weights have ${weights.length} values, expected ${batchSize} × ${E}`);
    const w = tf.tensor2d(weights, [batchSize, E]);
    const wExpanded = tf.matMul(w, this.expand) as tf.Tensor2D; // [B, E·r]
    const { groups, sumExperts, tileExperts } = this;
    // Row t·B + b carries row b's weights: [T·B, E·r], made once per sequence length, not per module.
    let rowW: tf.Tensor2D | null = null;
    const rowWeights = (n: number): tf.Tensor2D => {
      if (rowW?.shape[0] !== n) {
        rowW?.dispose();
        rowW = tf.keep(tf.tile(wExpanded, [n / batchSize, 1]));
      }
      return rowW;
    };
    return {
      deltas(layer: number, group: ProjectionGroup, x: tf.Tensor2D): Partial<Record<ProjectionName, tf.Tensor2D>> | null {
        const modules = groups.get(`${layer}:${group}`);
        if (!modules) return null;
        const rw = rowWeights(x.shape[0]);
        const out: Partial<Record<ProjectionName, tf.Tensor2D>> = {};
        for (const m of modules) {
          const aMix = tf.matMul(tf.mul(tf.matMul(x, m.at), rw), sumExperts); // [n, r]: (Σ w A) x
          out[m.name] = tf.matMul(tf.mul(tf.matMul(aMix, tileExperts), rw), m.b) as tf.Tensor2D; // (Σ w (α/r) B)(Σ w A) x
        }
        return out;
      },
      dispose() {
        tf.dispose([w, wExpanded]);
        rowW?.dispose();
      },
    };
  }

  dispose(): void {
    for (const g of this.groups.values()) for (const m of g) tf.dispose([m.at, m.b]);
    this.groups.clear();
    tf.dispose([this.expand, this.sumExperts, this.tileExperts]);
  }
}
