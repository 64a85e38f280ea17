/**
 * LoRA (Hu et al. 2021) on the Llama projections, in PEFT's form (docs/method.md, "Notation"):
 *   y = W x + (α/r) · B A dropout(x),  A [r, dIn] Kaiming-uniform, B [dOut, r] zero.
 *
 * The LoRA modules of one group (projections.ts: q, k, v; gate, up) read the same input, so their
 * A matrices run as one matmul, dropout(x) · [A_q; A_k; A_v]ᵀ → [rows, r·m]; each module's B then
 * reads its r columns of that. One dropout mask per group: q, k and v's LoRAs see the same dropped
 * features, where PEFT draws one mask per module.
 * Import and export are PEFT modules (`model.layers.N.self_attn.q_proj`, A [r, dIn], B [dOut, r]),
 * for writePeftAdapter / openPeftAdapter.
 */
import * as tf from '@tensorflow/tfjs';
import { linearMerge } from '../../shared/arrow/mu-merge.js';
import { QuiverInputError } from '../../shared/errors.js';
import { Rng } from '../../shared/random.js';
import type { PeftAdapterHandle } from '../io/peft-adapter.js';
import type { WritePeftAdapterOptions } from '../io/write-peft-adapter.js';
import type { LlamaConfig } from './config.js';
import { LoraConfig, type LoraConfigInput } from './lora-config.js';
import type { AdapterDelta } from './llama.js';
import {
  groupLayout,
  groupOf,
  moduleKey,
  parseProjectionKey,
  PROJECTION_GROUPS,
  PROJECTION_NAMES,
  projectionShape,
  type ProjectionGroup,
  type ProjectionName,
} from './projections.js';

/** One LoRA module in PEFT layout. */
export interface LoraModule {
  key: string;
  a: Float32Array; // [r, dIn]
  b: Float32Array; // [dOut, r]
}

interface GroupState {
  /** Targeted projections of the group; member j owns columns [j·r, (j+1)·r) of x·Aᵀ. */
  members: { name: ProjectionName; dOut: number; bt: tf.Variable<tf.Rank.R2> /* Bᵀ [r, dOut] */ }[];
  dIn: number;
  at: tf.Variable<tf.Rank.R2>; // [dIn, r·m]: the members' Aᵀ side by side
}

/** What a group's training forward pass keeps for its backward pass (Lora.trainingBackward). */
export interface LoraGroupSaved {
  group: GroupState;
  /** The group's input after dropout. */
  input: tf.Tensor2D;
  mask: tf.Tensor2D | null;
  /** (α/r)·x̃·Aᵀ, [n, r·m]. */
  u: tf.Tensor2D;
  /** Each member's Bᵀ, padded with zero rows to [r·m, dOut] (the member's own rows hold it). */
  padded: tf.Tensor2D[];
}

/** The config checked, its target modules in PROJECTION_NAMES order. */
function resolveConfig(input: LoraConfigInput): LoraConfig {
  const config = LoraConfig.parse(input);
  return { ...config, targetModules: PROJECTION_NAMES.filter((m) => config.targetModules.includes(m)) };
}

export class Lora implements AdapterDelta {
  readonly modelConfig: LlamaConfig;
  readonly config: LoraConfig;
  private readonly groups = new Map<string, GroupState>(); // "layer:group"
  private readonly rng: Rng;
  private readonly scaleTensor: tf.Scalar;
  private disposed = false;

  /**
   * @param init per module key, its PEFT-layout A and B
   * @param seed seeds the dropout masks
   */
  private constructor(modelConfig: LlamaConfig, config: LoraConfig, init: (key: string, r: number, dIn: number, dOut: number) => { a: Float32Array; b: Float32Array }, seed: number) {
    this.modelConfig = modelConfig;
    this.config = config;
    this.rng = new Rng(seed ^ 0x5bd1e995);
    const r = config.r;
    this.scaleTensor = tf.scalar(config.loraAlpha / r);
    for (let layer = 0; layer < modelConfig.numHiddenLayers; layer++) {
      for (const group of PROJECTION_GROUPS) {
        const layout = groupLayout(modelConfig, group);
        const targeted = layout.members.filter((m) => config.targetModules.includes(m.name));
        if (targeted.length === 0) continue;
        const rm = r * targeted.length;
        const at = new Float32Array(layout.dIn * rm);
        const name = `lora.${layer}.${group}#${Math.random().toString(36).slice(2)}`;
        const members = targeted.map((m, j) => {
          const w = init(moduleKey(layer, m.name), r, layout.dIn, m.dOut);
          for (let k = 0; k < r; k++) for (let i = 0; i < layout.dIn; i++) at[i * rm + j * r + k] = w.a[k * layout.dIn + i]!;
          const bt = new Float32Array(r * m.dOut);
          for (let o = 0; o < m.dOut; o++) for (let k = 0; k < r; k++) bt[k * m.dOut + o] = w.b[o * r + k]!;
          return { name: m.name, dOut: m.dOut, bt: tf.variable(tf.tensor2d(bt, [r, m.dOut]), true, `${name}.${m.name}.B`) };
        });
        this.groups.set(`${layer}:${group}`, {
          members,
          dIn: layout.dIn,
          at: tf.variable(tf.tensor2d(at, [layout.dIn, rm]), true, `${name}.A`),
        });
      }
    }
  }

  /** A fresh LoRA as PEFT initialises it: A ~ U(±1/√dIn) (kaiming_uniform_, a = √5), B = 0. */
  static init(modelConfig: LlamaConfig, config: LoraConfigInput = {}, seed = 0): Lora {
    const rng = new Rng(seed);
    return new Lora(
      modelConfig,
      resolveConfig(config),
      (_key, r, dIn, dOut) => {
        const bound = 1 / Math.sqrt(dIn);
        const a = new Float32Array(r * dIn);
        for (let i = 0; i < a.length; i++) a[i] = (2 * rng.next() - 1) * bound;
        return { a, b: new Float32Array(dOut * r) };
      },
      seed,
    );
  }

  /**
   * A LoRA from PEFT-layout modules. Its target modules are the projections the modules name;
   * every layer must have the same ones, with the shapes `modelConfig` implies.
   */
  static fromModules(modelConfig: LlamaConfig, config: Pick<LoraConfig, 'r' | 'loraAlpha'> & Partial<LoraConfig>, modules: readonly LoraModule[], seed = 0): Lora {
    const byKey = new Map<string, LoraModule>();
    const names = new Set<ProjectionName>();
    for (const m of modules) {
      const parsed = parseProjectionKey(m.key);
      if (!parsed || parsed.layer >= modelConfig.numHiddenLayers) {
        throw new QuiverInputError(`LoRA module "${m.key}" is not a projection of this ${modelConfig.numHiddenLayers}-layer Llama model`);
      }
      const { dIn, dOut } = projectionShape(modelConfig, parsed.name);
      if (m.a.length !== config.r * dIn || m.b.length !== dOut * config.r) {
        throw new QuiverInputError(`LoRA module "${m.key}" has ${m.a.length} A and ${m.b.length} B values; rank ${config.r} on a ${dOut}×${dIn} projection needs ${config.r * dIn} and ${dOut * config.r}`);
      }
      byKey.set(m.key, m);
      names.add(parsed.name);
    }
    const targetModules = PROJECTION_NAMES.filter((n) => names.has(n));
    for (let layer = 0; layer < modelConfig.numHiddenLayers; layer++) {
      for (const n of targetModules) {
        if (!byKey.has(moduleKey(layer, n))) throw new QuiverInputError(`LoRA has ${n} in some layers but not in layer ${layer}; Quiver needs the same modules in every layer`);
      }
    }
    const resolved = resolveConfig({ ...config, targetModules });
    return new Lora(modelConfig, resolved, (key) => byKey.get(key)!, seed);
  }

  /** Loads a PEFT adapter folder's weights (opened with openPeftAdapter). */
  static async fromPeft(handle: PeftAdapterHandle, modelConfig: LlamaConfig): Promise<Lora> {
    const cfg = handle.config;
    if (cfg.use_rslora) throw new QuiverInputError('use_rslora adapters are not supported (their scale is α/√r)', handle.dir);
    if ((cfg.rank_pattern && Object.keys(cfg.rank_pattern).length > 0) || (cfg.alpha_pattern && Object.keys(cfg.alpha_pattern).length > 0)) {
      throw new QuiverInputError('rank_pattern / alpha_pattern adapters are not supported: every module must have rank r and alpha lora_alpha', handle.dir);
    }
    const modules: LoraModule[] = [];
    for (const m of handle.modules) {
      if (m.r !== cfg.r) throw new QuiverInputError(`module ${m.key} has rank ${m.r} but the config says r = ${cfg.r}`, handle.dir);
      const { a, b } = await handle.readModule(m.key);
      modules.push({ key: m.key, a, b });
    }
    return Lora.fromModules(modelConfig, { r: cfg.r, loraAlpha: cfg.lora_alpha, loraDropout: cfg.lora_dropout ?? 0 }, modules);
  }

  /** α/r. */
  get scale(): number {
    return this.config.loraAlpha / this.config.r;
  }

  variables(): tf.Variable[] {
    this.checkLive();
    return [...this.groups.values()].flatMap((g) => [g.at, ...g.members.map((m) => m.bt)]);
  }

  /** The weights as PEFT modules, by layer then projection (PROJECTION_NAMES order). */
  modules(): LoraModule[] {
    this.checkLive();
    const r = this.config.r;
    const out: LoraModule[] = [];
    for (let layer = 0; layer < this.modelConfig.numHiddenLayers; layer++) {
      for (const group of PROJECTION_GROUPS) {
        const g = this.groups.get(`${layer}:${group}`);
        if (!g) continue;
        const rm = r * g.members.length;
        const at = g.at.dataSync();
        g.members.forEach((m, j) => {
          const bt = m.bt.dataSync();
          const a = new Float32Array(r * g.dIn);
          const b = new Float32Array(m.dOut * r);
          for (let k = 0; k < r; k++) {
            for (let i = 0; i < g.dIn; i++) a[k * g.dIn + i] = at[i * rm + j * r + k]!;
            for (let o = 0; o < m.dOut; o++) b[o * r + k] = bt[k * m.dOut + o]!;
          }
          out.push({ key: moduleKey(layer, m.name), a, b });
        });
      }
    }
    const order = (key: string) => {
      const p = parseProjectionKey(key)!;
      return p.layer * PROJECTION_NAMES.length + PROJECTION_NAMES.indexOf(p.name);
    };
    return out.sort((x, y) => order(x.key) - order(y.key));
  }

  /** What writePeftAdapter needs to save this LoRA. */
  toPeftAdapter(baseModel: string): WritePeftAdapterOptions {
    const r = this.config.r;
    return {
      baseModel,
      r,
      loraAlpha: this.config.loraAlpha,
      loraDropout: this.config.loraDropout,
      targetModules: [...this.config.targetModules],
      modules: this.modules().map((m) => {
        const { dIn, dOut } = projectionShape(this.modelConfig, parseProjectionKey(m.key)!.name);
        return { key: m.key, a: m.a, b: m.b, r, dIn, dOut };
      }),
    };
  }

  deltas(layer: number, group: ProjectionGroup, x: tf.Tensor2D, training: boolean): Partial<Record<ProjectionName, tf.Tensor2D>> | null {
    return this.trainingDeltas(layer, group, x, training)?.deltas ?? null;
  }

  /** Whether this LoRA has modules in `group` of `layer`. */
  targets(layer: number, group: ProjectionGroup): boolean {
    return this.groups.has(`${layer}:${group}`);
  }

  /**
   * deltas() with what trainingBackward needs: the (dropped-out) input, x·Aᵀ scaled, the mask.
   * One dropout mask per call, drawn in the order the model calls its groups. `subset`: x holds
   * only these rows of a batch of `of` rows (the training step computes the last layer's o and
   * MLP on the rows that carry a loss); the mask is drawn for every row, as without it, and the
   * subset's rows kept, so which rows are computed never changes a result.
   */
  trainingDeltas(
    layer: number,
    group: ProjectionGroup,
    x: tf.Tensor2D,
    training: boolean,
    subset?: { of: number; rows: Int32Array },
  ): { deltas: Partial<Record<ProjectionName, tf.Tensor2D>>; saved: LoraGroupSaved } | null {
    const g = this.groups.get(`${layer}:${group}`);
    if (!g) return null;
    const p = this.config.loraDropout;
    const r = this.config.r;
    const mask = training && p > 0 ? this.dropoutMask(x.shape[0], x.shape[1], p, subset) : null;
    const input = mask ? (tf.mul(x, mask) as tf.Tensor2D) : x;
    const u = tf.mul(tf.matMul(input, g.at), this.scaleTensor) as tf.Tensor2D; // [n, r·m]: (α/r)·A x for every member
    // Member j's Bᵀ padded with zero rows to [r·m, dOut]: u·(padded Bᵀ) is u_j·Bᵀ_j, exactly (the
    // zeros add nothing), and a column slice of u, slow on wasm, is never taken.
    const m = g.members.length;
    const padded = g.members.map((member, j) => (m === 1 ? member.bt : (tf.pad(member.bt, [[j * r, (m - 1 - j) * r], [0, 0]]) as tf.Tensor2D)));
    const deltas: Partial<Record<ProjectionName, tf.Tensor2D>> = {};
    g.members.forEach((member, j) => {
      deltas[member.name] = tf.matMul(u, padded[j]!); // [n, dOut]
    });
    return { deltas, saved: { group: g, input, mask, u, padded } };
  }

  /**
   * Gradients of one group from the gradients at its members' outputs (`dy`, every member's):
   * (variable, gradient) pairs for Aᵀ and each Bᵀ, and the gradient at the group's input x when
   * `needDx`. With u = s·(x̃·Aᵀ) and δ_j = u_j·Bᵀ_j:
   *   dBᵀ_j = u_jᵀ·dy_j,  du_j = dy_j·B_j,  dAᵀ = s·x̃ᵀ·du,  dx = s·(du·A)∘mask
   * The products are arranged so that only small matrices ([n, r·m] and smaller) are transposed,
   * and no column of anything is sliced (slow on wasm).
   */
  trainingBackward(saved: LoraGroupSaved, dy: Partial<Record<ProjectionName, tf.Tensor2D>>, needDx: boolean): { grads: [tf.Variable, tf.Tensor][]; dx: tf.Tensor2D | null } {
    const { group: g, input, mask, u, padded } = saved;
    const r = this.config.r;
    const m = g.members.length;
    const uT = tf.transpose(u); // [r·m, n]
    const grads: [tf.Variable, tf.Tensor][] = [];
    let du: tf.Tensor2D | null = null; // [n, r·m]: Σ_j dy_j·(padded Bᵀ_j)ᵀ, member j's gradient in its own columns
    g.members.forEach((member, j) => {
      const d = dy[member.name];
      if (!d) throw new Error(`LoRA backward: no gradient for ${member.name}`);
      const dPadded = tf.matMul(uT, d); // [r·m, dOut]; member j's rows are its dBᵀ
      grads.push([member.bt, m === 1 ? dPadded : tf.slice(dPadded, [j * r, 0], [r, -1])]);
      const part = tf.matMul(d, tf.transpose(padded[j]!)) as tf.Tensor2D;
      du = du ? (tf.add(du, part) as tf.Tensor2D) : part;
    });
    const duAll = du!;
    // dAᵀ [dIn, r·m] = s·x̃ᵀ·du, as (duᵀ·x̃)ᵀ: the transposes are of [n, r·m] and [r·m, dIn].
    const dAt = tf.mul(tf.transpose(tf.matMul(tf.transpose(duAll), input)), this.scaleTensor);
    grads.unshift([g.at, dAt]);
    if (!needDx) return { grads, dx: null };
    const dInput = tf.matMul(duAll, tf.mul(tf.transpose(g.at), this.scaleTensor) as tf.Tensor2D) as tf.Tensor2D; // [n, dIn]
    return { grads, dx: mask ? (tf.mul(dInput, mask) as tf.Tensor2D) : dInput };
  }

  /** Inverted dropout: 0 with probability p, else 1/(1-p). Drawn here: tf.randomUniform is slow in JS. */
  private dropoutMask(rows: number, cols: number, p: number, subset?: { of: number; rows: Int32Array }): tf.Tensor2D {
    const keep = 1 / (1 - p);
    const all = subset?.of ?? rows;
    const m = new Float32Array(all * cols);
    this.rng.fillThreshold(m, p, 0, keep);
    if (!subset) return tf.tensor2d(m, [rows, cols]);
    if (subset.rows.length !== rows) throw new RangeError(`${rows} input rows for a subset of ${subset.rows.length}`);
    const picked = new Float32Array(rows * cols);
    subset.rows.forEach((row, i) => picked.set(m.subarray(row * cols, (row + 1) * cols), i * cols));
    return tf.tensor2d(picked, [rows, cols]);
  }

  private checkLive(): void {
    if (this.disposed) throw new Error('this Lora was disposed');
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const g of this.groups.values()) tf.dispose([g.at, ...g.members.map((m) => m.bt)]);
    this.scaleTensor.dispose();
    this.groups.clear();
  }
}

/**
 * Adapters mixed in parameter space, Σ wᵢ·Aᵢ and Σ wᵢ·Bᵢ (the reference code's μ-routing and
 * LoRAX's `linear` merge). All must have the same rank, alpha and modules.
 */
export function mergeLoras(loras: readonly Lora[], weights: readonly number[]): Lora {
  const first = loras[0];
  if (!first) throw new RangeError('merge needs at least one LoRA');
  if (weights.length !== loras.length) throw new RangeError(`${weights.length} weights for ${loras.length} LoRAs`);
  for (const l of loras) {
    if (l.config.r !== first.config.r || l.config.loraAlpha !== first.config.loraAlpha) {
      throw new RangeError('merged LoRAs need the same r and lora_alpha (LoRAX requires it too)');
    }
    if (l.config.targetModules.join() !== first.config.targetModules.join()) throw new RangeError('merged LoRAs need the same target modules');
  }
  const all = loras.map((l) => l.modules());
  const merged = all[0]!.map((m, i) => ({ key: m.key, ...linearMerge(all.map((mods) => mods[i]!), weights) }));
  return Lora.fromModules(first.modelConfig, first.config, merged);
}

/** Which fused group a module key's LoRA feeds (for callers that route per module). */
export function loraGroupOf(key: string): { layer: number; group: ProjectionGroup; name: ProjectionName } | null {
  const p = parseProjectionKey(key);
  return p ? { layer: p.layer, group: groupOf(p.name), name: p.name } : null;
}
