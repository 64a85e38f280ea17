/**
 * A Llama-architecture decoder (HF LlamaForCausalLM) in TensorFlow.js: token embedding, N layers of
 * [RMSNorm → causal self-attention with rotary positions and optional grouped KV heads → residual,
 * RMSNorm → SwiGLU MLP → residual], a final RMSNorm and the LM head (tied to the embedding or not).
 *
 * Built for speed on tfjs-backend-wasm, where every op has a fixed cost and only plain 2-D matmuls
 * are fast (docs/environment.md, "TensorFlow.js"):
 *  - weights live in compute layout [in, out], and a frozen weight keeps its transpose for the
 *    backward pass (linear.ts), which build/train/backprop.ts writes out block by block with the
 *    forward functions used here (rms-norm.ts, attention.ts, swiglu.ts);
 *  - rows are time-major: row = t·batch + b. Attention then needs fewer transposes (v and the
 *    attention output are already in the layout the grouped matmul reads and writes);
 *  - rotary tables (with the 1/√d softmax scale folded into the query's), the causal mask and
 *    every constant are built once per sequence length, never per step;
 *  - no op that is slow on wasm in the hot path: no split of fused outputs, no tf.gather, no
 *    transposed or batched tf.matMul.
 * Sequences are right-padded: a causal model never lets a real token see the padding after it.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../shared/random.js';
import type { LlamaConfig } from './config.js';
import { causalAttention, type AttentionShape, type AttentionTables } from './attention.js';
import { rowsOf } from './gather-rows.js';
import { frozenMatrix, type FrozenMatrix } from './linear.js';
import { groupLayout, groupOf, moduleKey, parseProjectionKey, PROJECTION_NAMES, projectionShape, type ProjectionGroup, type ProjectionName } from './projections.js';
import { rmsNorm } from './rms-norm.js';
import { ropeTables, rotateHalfMatrix } from './rope.js';
import { swiglu } from './swiglu.js';

/** Token ids, row-major [batchSize, seqLen], right-padded. */
export interface TokenBatch {
  ids: Int32Array;
  batchSize: number;
  seqLen: number;
}

/** Something that adds LoRA updates to the projections (one adapter, a merge, an Arrow router). */
export interface AdapterDelta {
  /**
   * Updates for the projections of `group` in layer `layer`, given the input they share,
   * x [rows, dIn]: per projection [rows, dOut]; projections without one are absent, and null means
   * none at all. `training` turns LoRA dropout on.
   */
  deltas(layer: number, group: ProjectionGroup, x: tf.Tensor2D, training: boolean): Partial<Record<ProjectionName, tf.Tensor2D>> | null;
}

export interface ForwardOptions {
  adapter?: AdapterDelta | null;
  /** LoRA dropout on (the base model has no dropout). */
  training?: boolean;
  /** Module keys (`model.layers.0.self_attn.q_proj`) whose input hidden states to return. */
  captures?: readonly string[];
}

export interface HiddenStates {
  /** Last layer's output before the final norm, time-major [seqLen·batchSize, hiddenSize]. */
  hidden: tf.Tensor2D;
  /** Per requested module key: the module's input, [batchSize, seqLen, dIn]. */
  captures: Record<string, tf.Tensor3D>;
}

/** One layer's weights, projections in compute layout [in, out]. */
export interface LayerWeights {
  inputLayernorm: tf.Tensor1D; // [d]
  proj: Record<ProjectionName, tf.Tensor2D>; // q [d, qDim], k and v [d, kvDim], o [qDim, d], gate and up [d, ff], down [ff, d]
  postAttentionLayernorm: tf.Tensor1D; // [d]
}

/**
 * The weights and constants of a model, as the training step (build/train/backprop.ts) reads them.
 * Tensors belong to the model: read them, never dispose them.
 */
export interface LlamaParts {
  embedTokens: tf.Tensor2D; // [vocab, d]
  layers: readonly LayerWeights[];
  norm: tf.Tensor1D; // [d]
  /** [d, vocab], or null when tied to embedTokens. */
  lmHead: tf.Tensor2D | null;
  eps: tf.Scalar;
  /** A frozen model's 2-D weight with its transpose (the tied head: w = embedTokensᵀ, wT = embedTokens); undefined when trainable. */
  frozen(w: tf.Tensor2D): FrozenMatrix | undefined;
  /** Rope tables and causal mask for sequences of length T, built once per T. */
  attentionTables(T: number): AttentionTables;
  /** A frozen model's layer-0 projection inputs and outputs per token id (FirstLayerTables); null when trainable or the vocabulary is large. */
  firstLayerTables(): FirstLayerTables | null;
}

/**
 * Layer 0's normed input and q, k, v outputs for every token id, [vocab, ·]. In a frozen model
 * they depend on the token alone (the embedding, a per-row norm and a matmul), so a LoRA step
 * can read its rows instead of computing them: a row gather instead of three matmuls over the
 * batch. Kept for vocabularies up to FIRST_LAYER_TABLE_VOCAB, where the tables are small.
 */
export interface FirstLayerTables {
  x: tf.Tensor2D; // [vocab, d]: input_layernorm(embed_tokens)
  q: tf.Tensor2D; // [vocab, qDim]
  k: tf.Tensor2D; // [vocab, kvDim]
  v: tf.Tensor2D;
}

/** Larger vocabularies (SmolLM's 49152) would make the tables bigger than the work they save. */
const FIRST_LAYER_TABLE_VOCAB = 8192;


/** `model.layers.3.self_attn.q_proj.weight` */
function projWeightName(layer: number, name: ProjectionName): string {
  return `${moduleKey(layer, name)}.weight`;
}

/** HF tensor name → shape [out, in] (or [d] for norms) for `config`. */
export function hfTensorShapes(config: LlamaConfig): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  const d = config.hiddenSize;
  shapes.set('model.embed_tokens.weight', [config.vocabSize, d]);
  for (let l = 0; l < config.numHiddenLayers; l++) {
    shapes.set(`model.layers.${l}.input_layernorm.weight`, [d]);
    shapes.set(`model.layers.${l}.post_attention_layernorm.weight`, [d]);
    for (const name of PROJECTION_NAMES) {
      const { dIn, dOut } = projectionShape(config, name);
      shapes.set(projWeightName(l, name), [dOut, dIn]);
    }
  }
  shapes.set('model.norm.weight', [d]);
  if (!config.tieWordEmbeddings) shapes.set('lm_head.weight', [config.vocabSize, d]);
  return shapes;
}

/** Row-major [rows, cols] → [cols, rows]: HF's [out, in] to compute layout and back. */
function transposed(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

export interface ModelOptions {
  /** Train the base weights (pretraining). False: frozen, faster backward, LoRA-only training. */
  trainable?: boolean;
}

export class LlamaModel {
  readonly config: LlamaConfig;
  readonly trainable: boolean;
  private readonly embedTokens: tf.Tensor2D; // [vocab, d]
  private readonly layers: LayerWeights[];
  private readonly norm: tf.Tensor1D; // [d]
  private readonly lmHead: tf.Tensor2D | null; // [d, vocab]; null when tied to embedTokens
  /** For a frozen model: each 2-D weight with its transpose (linear.ts). */
  private readonly frozen = new Map<tf.Tensor, FrozenMatrix>();
  private readonly rotateHalf: FrozenMatrix; // [headDim, headDim]
  private readonly eps: tf.Scalar;
  private readonly positional = new Map<number, AttentionTables>();
  private firstLayer: FirstLayerTables | null = null;
  private disposed = false;

  private constructor(config: LlamaConfig, read: (name: string, shape: number[]) => Float32Array, options: ModelOptions) {
    this.config = config;
    this.trainable = options.trainable ?? false;
    const make = <R extends tf.Rank>(data: Float32Array, shape: number[], name: string): tf.Tensor<R> => {
      const t = tf.tensor(data, shape, 'float32');
      if (!this.trainable) return t as tf.Tensor<R>;
      const v = tf.variable(t, true, `${name}#${Math.random().toString(36).slice(2)}`);
      t.dispose();
      return v as unknown as tf.Tensor<R>;
    };
    const d = config.hiddenSize;
    const shapes = hfTensorShapes(config);
    const get = (name: string): Float32Array => read(name, shapes.get(name)!);

    this.embedTokens = make<tf.Rank.R2>(get('model.embed_tokens.weight'), [config.vocabSize, d], 'embed_tokens');
    this.layers = [];
    for (let l = 0; l < config.numHiddenLayers; l++) {
      const proj = {} as Record<ProjectionName, tf.Tensor2D>;
      for (const name of PROJECTION_NAMES) {
        const { dIn, dOut } = projectionShape(config, name);
        proj[name] = make<tf.Rank.R2>(transposed(get(projWeightName(l, name)), dOut, dIn), [dIn, dOut], `layers.${l}.${name}`);
      }
      this.layers.push({
        inputLayernorm: make<tf.Rank.R1>(get(`model.layers.${l}.input_layernorm.weight`), [d], `layers.${l}.input_layernorm`),
        proj,
        postAttentionLayernorm: make<tf.Rank.R1>(get(`model.layers.${l}.post_attention_layernorm.weight`), [d], `layers.${l}.post_attention_layernorm`),
      });
    }
    this.norm = make<tf.Rank.R1>(get('model.norm.weight'), [d], 'norm');
    this.lmHead = config.tieWordEmbeddings ? null : make<tf.Rank.R2>(transposed(get('lm_head.weight'), config.vocabSize, d), [d, config.vocabSize], 'lm_head');

    if (!this.trainable) {
      for (const layer of this.layers) for (const w of Object.values(layer.proj)) this.freeze(w);
      if (this.lmHead) this.freeze(this.lmHead);
      else this.frozen.set(this.embedTokens, { w: tf.transpose(this.embedTokens), wT: this.embedTokens });
    }
    this.rotateHalf = frozenMatrix(tf.tensor2d(rotateHalfMatrix(config.headDim), [config.headDim, config.headDim]));
    this.eps = tf.scalar(config.rmsNormEps);
  }

  /** Builds the model from HF-named weights; `read(name, shape)` returns the [out, in] data. */
  static fromHfTensors(config: LlamaConfig, read: (name: string, shape: number[]) => Float32Array, options: ModelOptions = {}): LlamaModel {
    return new LlamaModel(config, read, options);
  }

  /** Fresh weights as HF initialises them: N(0, 0.02) for matrices (initializer_range), ones for norms. */
  static random(config: LlamaConfig, seed: number, options: ModelOptions = {}): LlamaModel {
    const rng = new Rng(seed);
    return new LlamaModel(
      config,
      (name, shape) => {
        const n = shape.reduce((a, b) => a * b, 1);
        return shape.length === 1 ? new Float32Array(n).fill(1) : rng.normals(n, 0.02);
      },
      options,
    );
  }

  /** Every weight under its HF name and shape ([out, in]), in hfTensorShapes order. */
  toHfTensors(): { name: string; shape: number[]; data: Float32Array }[] {
    const out: { name: string; shape: number[]; data: Float32Array }[] = [];
    const c = this.config;
    const d = c.hiddenSize;
    const shapes = hfTensorShapes(c);
    const grab = (t: tf.Tensor): Float32Array => t.dataSync() as Float32Array;
    const put = (name: string, data: Float32Array): void => {
      out.push({ name, shape: shapes.get(name)!, data: Float32Array.from(data) });
    };
    put('model.embed_tokens.weight', grab(this.embedTokens));
    this.layers.forEach((layer, l) => {
      put(`model.layers.${l}.input_layernorm.weight`, grab(layer.inputLayernorm));
      put(`model.layers.${l}.post_attention_layernorm.weight`, grab(layer.postAttentionLayernorm));
      for (const name of PROJECTION_NAMES) {
        const { dIn, dOut } = projectionShape(c, name);
        put(projWeightName(l, name), transposed(grab(layer.proj[name]), dIn, dOut));
      }
    });
    put('model.norm.weight', grab(this.norm));
    if (this.lmHead) put('lm_head.weight', transposed(grab(this.lmHead), d, c.vocabSize));
    const order = [...shapes.keys()];
    return out.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
  }

  /** The weights and constants, for the training step. */
  parts(): LlamaParts {
    this.checkLive();
    return {
      embedTokens: this.embedTokens,
      layers: this.layers,
      norm: this.norm,
      lmHead: this.lmHead,
      eps: this.eps,
      frozen: (w) => this.frozen.get(w),
      attentionTables: (T) => this.positionalFor(T),
      firstLayerTables: () => this.firstLayerTables(),
    };
  }

  private firstLayerTables(): FirstLayerTables | null {
    if (this.trainable || this.config.vocabSize > FIRST_LAYER_TABLE_VOCAB) return null;
    if (!this.firstLayer) {
      const layer = this.layers[0]!;
      const made: FirstLayerTables = tf.tidy(() => {
        const x = rmsNorm(this.embedTokens, layer.inputLayernorm, this.eps);
        const project = (w: tf.Tensor2D): tf.Tensor2D => tf.matMul(x, w);
        return { x, q: project(layer.proj.q_proj), k: project(layer.proj.k_proj), v: project(layer.proj.v_proj) };
      });
      // Kept: the first call may come from inside a caller's tidy, which must not free them.
      for (const t of Object.values(made)) tf.keep(t);
      this.firstLayer = made;
    }
    return this.firstLayer;
  }

  /** The trainable base weights (empty for a frozen model). */
  variables(): tf.Variable[] {
    if (!this.trainable) return [];
    const all: tf.Tensor[] = [this.embedTokens, this.norm];
    for (const l of this.layers) all.push(l.inputLayernorm, l.postAttentionLayernorm, ...Object.values(l.proj));
    if (this.lmHead) all.push(this.lmHead);
    return all as tf.Variable[];
  }

  /** Logits [batchSize, seqLen, vocab] and the requested captures. */
  forward(batch: TokenBatch, options: ForwardOptions = {}): { logits: tf.Tensor3D; captures: Record<string, tf.Tensor3D> } {
    return tf.tidy(() => {
      const { hidden, captures } = this.hiddenStates(batch, options);
      const logits = this.logitsFromHidden(hidden); // [seq·batch, vocab]
      const bt = tf.transpose(tf.reshape(logits, [batch.seqLen, batch.batchSize, this.config.vocabSize]), [1, 0, 2]) as tf.Tensor3D;
      return { logits: bt, captures };
    });
  }

  /** Final RMSNorm and LM head on rows of hidden states [n, d] → logits [n, vocab]. */
  logitsFromHidden(hidden: tf.Tensor2D): tf.Tensor2D {
    const x = rmsNorm(hidden, this.norm, this.eps);
    if (this.lmHead) return tf.matMul(x, this.lmHead);
    // Tied: logits = x · embed_tokensᵀ.
    return tf.matMul(x, this.trainable ? tf.transpose(this.embedTokens) : this.frozen.get(this.embedTokens)!.w);
  }

  /** A batch's ids as a time-major int32 tensor [T·B] (row t·B + b), checked against the vocabulary and context. */
  timeMajorIds(batch: TokenBatch): tf.Tensor1D {
    const { batchSize: B, seqLen: T } = batch;
    const c = this.config;
    if (batch.ids.length !== B * T) throw new RangeError(`batch has ${batch.ids.length} ids, expected ${B} × ${T}`);
    if (T > c.maxPositionEmbeddings) throw new RangeError(`sequence length ${T} exceeds max_position_embeddings ${c.maxPositionEmbeddings}`);
    const timeMajor = new Int32Array(B * T);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) timeMajor[t * B + b] = batch.ids[b * T + t]!;
    for (const id of timeMajor) {
      if (id < 0 || id >= c.vocabSize) throw new RangeError(`token id ${id} is outside the vocabulary [0, ${c.vocabSize})`);
    }
    return tf.tensor1d(timeMajor, 'int32');
  }

  /** The attention's sizes for a batch of B sequences of T tokens. */
  attentionShape(B: number, T: number): AttentionShape {
    const c = this.config;
    return { T, B, heads: c.numAttentionHeads, kvHeads: c.numKeyValueHeads, headDim: c.headDim };
  }

  /**
   * The decoder stack, not tidied: call inside tf.tidy (or a gradient function). Rows of `hidden`
   * are time-major, row = t·batchSize + b; captures come back batch-major.
   */
  hiddenStates(batch: TokenBatch, options: ForwardOptions = {}): HiddenStates {
    this.checkLive();
    const { batchSize: B, seqLen: T } = batch;
    const c = this.config;
    const ids = this.timeMajorIds(batch);
    const wanted = this.captureTargets(options.captures ?? []);
    const captures: Record<string, tf.Tensor3D> = {};
    const capture = (layer: number, group: ProjectionGroup, x: tf.Tensor2D): void => {
      const keys = wanted.get(`${layer}:${group}`);
      if (!keys) return;
      const batchMajor = tf.transpose(tf.reshape(x, [T, B, x.shape[1]]), [1, 0, 2]) as tf.Tensor3D;
      for (const key of keys) captures[key] = batchMajor;
    };
    const adapter = options.adapter ?? null;
    const training = options.training ?? false;

    const tables = this.positionalFor(T);
    const shape = this.attentionShape(B, T);

    let h = rowsOf(this.embedTokens, ids); // [T·B, d]
    this.layers.forEach((layer, l) => {
      // The projections of `group` on their shared input x, each plus its LoRA update if any.
      const project = (group: ProjectionGroup, x: tf.Tensor2D): Partial<Record<ProjectionName, tf.Tensor2D>> => {
        capture(l, group, x);
        const deltas = adapter?.deltas(l, group, x, training) ?? {};
        const out: Partial<Record<ProjectionName, tf.Tensor2D>> = {};
        for (const { name } of groupLayout(c, group).members) {
          const y: tf.Tensor2D = tf.matMul(x, layer.proj[name]);
          const delta = deltas[name];
          out[name] = delta ? (tf.add(y, delta) as tf.Tensor2D) : y;
        }
        return out;
      };
      const { q_proj: q, k_proj: k, v_proj: v } = project('qkv', rmsNorm(h, layer.inputLayernorm, this.eps)); // [T·B, qDim], [T·B, kvDim] ×2
      const attn = causalAttention(q!, k!, v!, shape, tables).out; // [T·B, qDim]
      h = tf.add(h, project('o', attn).o_proj!);
      const { gate_proj: gate, up_proj: up } = project('gateUp', rmsNorm(h, layer.postAttentionLayernorm, this.eps)); // [T·B, ff] ×2
      const act = swiglu(gate!, up!); // silu(gate) · up  [T·B, ff]
      h = tf.add(h, project('down', act).down_proj!);
    });
    return { hidden: h, captures };
  }

  private freeze(w: tf.Tensor2D): void {
    this.frozen.set(w, frozenMatrix(w));
  }

  private positionalFor(T: number): AttentionTables {
    const cached = this.positional.get(T);
    if (cached) return cached;
    const hd = this.config.headDim;
    const { cos, sin } = ropeTables(T, hd, this.config.ropeTheta);
    const scale = 1 / Math.sqrt(hd);
    const mask = new Float32Array(T * T);
    for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) mask[i * T + j] = -1e9;
    const made: AttentionTables = {
      ropeQ: { cos: tf.tensor4d(cos.map((x) => x * scale), [T, 1, 1, hd]), sin: tf.tensor4d(sin.map((x) => x * scale), [T, 1, 1, hd]), rotateHalf: this.rotateHalf },
      ropeK: { cos: tf.tensor4d(cos, [T, 1, 1, hd]), sin: tf.tensor4d(sin, [T, 1, 1, hd]), rotateHalf: this.rotateHalf },
      causalMask: tf.tensor3d(mask, [T, 1, T]),
    };
    for (const t of positionalTensors(made)) tf.keep(t);
    this.positional.set(T, made);
    return made;
  }

  /** "layer:group" → the module keys whose input that group reads. */
  private captureTargets(keys: readonly string[]): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const key of keys) {
      const parsed = parseProjectionKey(key);
      if (!parsed || parsed.layer >= this.config.numHiddenLayers) {
        throw new RangeError(`cannot capture "${key}": expected model.layers.<0..${this.config.numHiddenLayers - 1}>.self_attn.{q,k,v,o}_proj or .mlp.{gate,up,down}_proj`);
      }
      const slot = `${parsed.layer}:${groupOf(parsed.name)}`;
      out.set(slot, [...(out.get(slot) ?? []), key]);
    }
    return out;
  }

  private checkLive(): void {
    if (this.disposed) throw new Error('this LlamaModel was disposed');
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const all = new Set<tf.Tensor>([this.embedTokens, this.norm, this.eps, this.rotateHalf.w, this.rotateHalf.wT]);
    for (const l of this.layers) for (const t of [l.inputLayernorm, l.postAttentionLayernorm, ...Object.values(l.proj)]) all.add(t);
    if (this.lmHead) all.add(this.lmHead);
    for (const m of this.frozen.values()) all.add(m.w).add(m.wT);
    if (this.firstLayer) for (const t of Object.values(this.firstLayer)) all.add(t);
    for (const p of this.positional.values()) for (const t of positionalTensors(p)) all.add(t);
    for (const t of all) t.dispose();
    this.positional.clear();
    this.frozen.clear();
  }
}

/** The tensors a model builds per sequence length (rotateHalf is the model's own). */
function positionalTensors(p: AttentionTables): tf.Tensor[] {
  return [p.ropeQ.cos, p.ropeQ.sin, p.ropeK.cos, p.ropeK.sin, p.causalMask];
}
