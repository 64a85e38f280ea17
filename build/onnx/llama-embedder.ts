/**
 * The Arrow embedder as ONNX (docs/method.md, "What the edge embeds"): the base Llama model's first
 * layers, returning the input hidden states of the routed modules. Built from default-domain
 * operators only (IR 8, opset 17) so that onnxruntime-node and onnxruntime-web both run it:
 *   embedding         Gather (F16 weights: Gather, then Cast of the rows only)
 *   layer 0's q, k, v per-token tables (tokenTables): its input norm and projections read the token
 *                     alone, so they are rows gathered by id, computed once at compile time
 *   RMSNorm           Pow, ReduceMean, Add, Sqrt, Div, Mul — as HF's LlamaRMSNorm, in the pattern
 *                     onnxruntime fuses into one SimplifiedLayerNormalization kernel
 *   rotary positions  Shape → Range → angles · inv_freq → Concat(a, a) → Cos/Sin, computed in-graph
 *                     for any length; rotate_half as a Gather that swaps each head's halves, its
 *                     signs folded into the sin table
 *   attention         q, k, v MatMuls (three products cost less than one and a Split's copy); GQA
 *                     by broadcasting MatMul over the query heads of each KV head
 *                     ([B, Hkv, grp, T, hd] × [B, Hkv, 1, hd, T]), no repeat_kv; additive causal
 *                     mask from Range/Greater/Where; Softmax over keys
 *   SwiGLU            gate and up MatMuls (no Split either) → gate·Sigmoid(gate)·up, which
 *                     onnxruntime fuses into one kernel
 *   Arrow logits      per routed module |x · Pᵀ| from the prototypes input P [adapters, dIn]
 *                     (shared/router/embedder-outputs.ts): MatMul, Abs
 *   int8 weights      each projection as DynamicQuantizeLinear (the activations to uint8, one
 *                     scale per tensor) → MatMulInteger with int8 weights (symmetric, one scale
 *                     per output column) → Cast → Mul by the two scales: onnxruntime fuses it into
 *                     one quantized GEMM, about twice as fast as the f32 one on wasm SIMD
 * Activations are batch-major [batch, seq, ·]; weights sit in compute layout [in, out], so no
 * Transpose of a weight at run time. The graph stops at the last hidden state a routed module reads.
 */
import { encodeF16 } from '../../shared/half.js';
import { arrowLogitsName, centreInputName, EMBEDDER_INPUT, moduleInputSite, MODULE_INPUT_SITES, prototypesInputName, siteOutputName, type ModuleInputSite } from '../../shared/router/embedder-outputs.js';
import type { LlamaConfig } from '../model/config.js';
import { OnnxGraph, TensorType, type Dim } from './onnx-graph.js';

export const EMBEDDER_IR_VERSION = 8;
/** 17: the newest opset whose ReduceMean takes `axes` as an attribute; nothing here needs 18. */
export const EMBEDDER_OPSET = 17;

/** How the embedder stores (and, for int8, computes) the base's projections. */
export const WEIGHT_DTYPES = ['f32', 'f16', 'int8'] as const;
export type WeightDtype = (typeof WEIGHT_DTYPES)[number];

/**
 * A [dIn, dOut] row-major matrix as int8 with one scale per column (symmetric: w ≈ q · scale,
 * q in −127..127; an all-zero column gets scale 1).
 */
export function quantizeColumns(w: Float32Array, dIn: number, dOut: number): { q: Int8Array; scale: Float32Array } {
  if (w.length !== dIn * dOut) throw new RangeError(`matrix has ${w.length} values, expected ${dIn} × ${dOut}`);
  const scale = new Float32Array(dOut);
  for (let i = 0; i < dIn; i++) for (let j = 0; j < dOut; j++) scale[j] = Math.max(scale[j]!, Math.abs(w[i * dOut + j]!));
  for (let j = 0; j < dOut; j++) scale[j] = scale[j]! > 0 ? scale[j]! / 127 : 1;
  const q = new Int8Array(dIn * dOut);
  for (let i = 0; i < dIn; i++) for (let j = 0; j < dOut; j++) q[i * dOut + j] = Math.max(-127, Math.min(127, Math.round(w[i * dOut + j]! / scale[j]!)));
  return { q, scale };
}

export interface LlamaEmbedderOptions {
  /** Routed module keys (`model.layers.3.self_attn.q_proj`): the graph outputs their inputs. */
  modules: readonly string[];
  /**
   * Weight storage: f32 exact; f16 halves the file (Cast to f32 before use); int8 quarters the
   * projections and computes them as quantized GEMMs (dynamic uint8 activations), about half the
   * forward's time on wasm at a small error. Default f32.
   */
  weightDtype?: WeightDtype;
  /**
   * Arrow logits `arrow_logits.<key>` = |x · Pᵀ| [batch, seq, adapters] per module, besides the
   * hidden states: 'inputs' (default) with P the graph input `prototypes.<key>` [adapters, dIn];
   * 'none' for hidden states only; or P folded in as constants, per module key row-major
   * [adapters, dIn] (measured in bench/embedder.ts; ties the ONNX file to one library).
   */
  arrowLogits?: 'inputs' | 'none' | { folded: ReadonlyMap<string, Float32Array> };
  /**
   * Routed modules whose Arrow logits are |(x − c) · Pᵀ|, c the graph input `centres.<key>` [dIn]
   * (the manifest's tensor of that name; centred routing). Default none.
   */
  centred?: readonly string[];
  /**
   * Layer 0's input norm and its q, k and v projections as per-token tables (rows gathered by id)
   * instead of a norm and three products per request: they read the token's embedding alone. Default:
   * where the tables cost at most 4× the weights they replace (tokenTablesPay; a byte-level
   * vocabulary, not a 49k one).
   */
  tokenTables?: boolean;
  /** For metadata_props. */
  baseModel?: string;
  producerVersion?: string;
}

export interface LlamaEmbedderModel {
  bytes: Uint8Array;
  /** Decoder layers the graph runs (the last one possibly in part). */
  layers: number;
  /** Graph outputs, in graph order. */
  outputs: string[];
}

/** HF-named weight reader: `model.layers.0.self_attn.q_proj.weight` → row-major [out, in] data. */
export type HfWeightReader = (name: string) => Float32Array;

/** `parts` HF [out_k, in] matrices → one [in, Σ out_k] matrix, row-major: their transposes side by side. */
function fusedTranspose(parts: readonly Float32Array[], outs: readonly number[], dIn: number): Float32Array {
  const width = outs.reduce((a, b) => a + b, 0);
  const out = new Float32Array(dIn * width);
  let col = 0;
  parts.forEach((w, p) => {
    const dOut = outs[p]!;
    if (w.length !== dOut * dIn) throw new RangeError(`weight has ${w.length} values, expected ${dOut} × ${dIn}`);
    for (let o = 0; o < dOut; o++) for (let i = 0; i < dIn; i++) out[i * width + col + o] = w[o * dIn + i]!;
    col += dOut;
  });
  return out;
}

/** Whether layer 0's token tables ([vocab, d + q + 2·kv] values) cost at most 4× the weights they replace. */
export function tokenTablesPay(c: LlamaConfig): boolean {
  const width = c.numAttentionHeads * c.headDim + 2 * c.numKeyValueHeads * c.headDim;
  return c.vocabSize * (c.hiddenSize + width) <= 4 * c.hiddenSize * width;
}

/**
 * RMSNorm of every embedding row (HF's LlamaRMSNorm: x / √(mean x² + eps) · w), computed in float64,
 * stored as float32: [vocab, d].
 */
function normedEmbeddings(embedding: Float32Array, vocab: number, d: number, weight: Float32Array, eps: number): Float32Array {
  const out = new Float32Array(vocab * d);
  for (let v = 0; v < vocab; v++) {
    let ms = 0;
    for (let i = 0; i < d; i++) ms += embedding[v * d + i]! ** 2;
    const inv = 1 / Math.sqrt(ms / d + eps);
    for (let i = 0; i < d; i++) out[v * d + i] = embedding[v * d + i]! * inv * weight[i]!;
  }
  return out;
}

/** x [rows, dIn] · Wᵀ for an HF weight W [dOut, dIn], float64 sums stored as float32: [rows, dOut]. */
function timesTransposed(x: Float32Array, rows: number, dIn: number, w: Float32Array, dOut: number): Float32Array {
  if (w.length !== dOut * dIn) throw new RangeError(`weight has ${w.length} values, expected ${dOut} × ${dIn}`);
  const out = new Float32Array(rows * dOut);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < dOut; o++) {
      let sum = 0;
      for (let i = 0; i < dIn; i++) sum += x[r * dIn + i]! * w[o * dIn + i]!;
      out[r * dOut + o] = sum;
    }
  }
  return out;
}

/** Which sites each layer needs: every layer before the last routed one runs whole. */
function plan(modules: readonly string[]): { layers: number; lastSite: ModuleInputSite; wanted: Set<string> } {
  const wanted = new Set<string>();
  let layers = 0;
  let lastSite: ModuleInputSite = 'attnIn';
  for (const key of modules) {
    const s = moduleInputSite(key);
    if (!s) throw new RangeError(`"${key}" is not a Llama projection (model.layers.N.self_attn.{q,k,v,o}_proj or mlp.{gate,up,down}_proj)`);
    wanted.add(`${s.layer}:${s.site}`);
    if (s.layer + 1 > layers) {
      layers = s.layer + 1;
      lastSite = s.site;
    } else if (s.layer + 1 === layers && MODULE_INPUT_SITES.indexOf(s.site) > MODULE_INPUT_SITES.indexOf(lastSite)) {
      lastSite = s.site;
    }
  }
  if (layers === 0) throw new RangeError('the embedder needs at least one routed module');
  return { layers, lastSite, wanted };
}

export function writeLlamaEmbedder(config: LlamaConfig, read: HfWeightReader, options: LlamaEmbedderOptions): LlamaEmbedderModel {
  const c = config;
  const { layers, lastSite, wanted } = plan(options.modules);
  if (layers > c.numHiddenLayers) throw new RangeError(`routed modules reach layer ${layers - 1}, the model has ${c.numHiddenLayers} layers`);
  const weightDtype = options.weightDtype ?? 'f32';
  const f16 = weightDtype === 'f16';
  const d = c.hiddenSize;
  const hd = c.headDim;
  const H = c.numAttentionHeads;
  const Hkv = c.numKeyValueHeads;
  const grp = H / Hkv;
  const qDim = H * hd;
  const kvDim = Hkv * hd;
  const ff = c.intermediateSize;
  const g = new OnnxGraph('quiver_arrow_embedder');
  const outputs: string[] = [];

  // x · W for a projection W [dIn, dOut]: a MatMul with an f32 initializer, or an f16 one and a
  // Cast; or, for int8 weights, the quantized chain onnxruntime fuses into one GEMM.
  const linear = (x: string, name: string, dims: [number, number], data: Float32Array, prefix: string): string => {
    if (weightDtype === 'int8') {
      const { q, scale } = quantizeColumns(data, dims[0], dims[1]);
      const [xq, xScale, xZero] = g.nodeN('DynamicQuantizeLinear', [x], 3, [], prefix) as [string, string, string];
      const product = g.node('MatMulInteger', [xq, g.i8(`${name}.int8`, dims, q), xZero], [], prefix);
      const scales = g.node('Mul', [xScale, g.f32(`${name}.scale`, [dims[1]], scale)], [], prefix);
      return g.node('Mul', [g.node('Cast', [product], [{ name: 'to', int: TensorType.FLOAT }], prefix), scales], [], prefix);
    }
    const w = f16 ? g.node('Cast', [g.f16Bits(`${name}.f16`, dims, encodeF16(data))], [{ name: 'to', int: TensorType.FLOAT }], name) : g.f32(name, dims, data);
    return g.node('MatMul', [x, w], [], prefix);
  };

  // Rows of a per-token table [vocab, width] for the ids: [batch, seq, width] (f16 storage: Gather, then Cast of the rows only).
  const ids = g.input(EMBEDDER_INPUT, TensorType.INT64, ['batch', 'seq']);
  const tokenRows = (name: string, width: number, data: Float32Array, prefix: string, as?: string): string =>
    f16
      ? g.node('Cast', [g.node('Gather', [g.f16Bits(`${name}.f16`, [c.vocabSize, width], encodeF16(data)), ids], [{ name: 'axis', int: 0 }], prefix)], [{ name: 'to', int: TensorType.FLOAT }], prefix, as)
      : g.node('Gather', [g.f32(name, [c.vocabSize, width], data), ids], [{ name: 'axis', int: 0 }], prefix, as);

  // Embedding: [batch, seq] ids → [batch, seq, d].
  const embedding = read('model.embed_tokens.weight'); // [vocab, d]
  let h = tokenRows('model.embed_tokens.weight', d, embedding, 'embed');
  const tables = options.tokenTables ?? tokenTablesPay(c);

  // Positions 0..seq-1, rotary tables [seq, hd] (rope.ts: angle = p · inv_freq in float32, emb = cat(angle, angle))
  // and the causal mask [seq, seq]: 0 where key ≤ query, -1e9 above the diagonal (as llama.ts). Built on first
  // use: a graph that stops before any attention has none of it.
  let positional: { cos: string; sin: string; cosQ: string; sinQ: string; mask: string } | undefined;
  const positions = () => {
    if (positional) return positional;
    const seq = g.node('Gather', [g.node('Shape', [ids], [], 'pos'), g.constI64([1], true)], [{ name: 'axis', int: 0 }], 'pos'); // scalar
    const pos = g.node('Range', [g.constI64([0], true), seq, g.constI64([1], true)], [], 'pos'); // [seq] int64
    const invFreq = new Float32Array(hd / 2);
    for (let i = 0; i < hd / 2; i++) invFreq[i] = Math.fround(1 / Math.fround(c.ropeTheta ** Math.fround((2 * i) / hd)));
    const angle = g.node('Mul', [g.node('Unsqueeze', [g.node('Cast', [pos], [{ name: 'to', int: TensorType.FLOAT }], 'rope'), g.constI64([1])], [], 'rope'), g.f32('rope.inv_freq', [1, hd / 2], invFreq)], [], 'rope'); // [seq, hd/2]
    const emb = g.node('Concat', [angle, angle], [{ name: 'axis', int: -1 }], 'rope'); // [seq, hd]
    const cos = g.node('Cos', [emb], [], 'rope');
    const sin = g.node('Sin', [emb], [], 'rope');
    const scale = g.constF32(1 / Math.sqrt(hd)); // the softmax scale rides on the query, as in llama.ts
    const future = g.node('Greater', [g.node('Unsqueeze', [pos, g.constI64([0])], [], 'mask'), g.node('Unsqueeze', [pos, g.constI64([1])], [], 'mask')], [], 'mask');
    // rotate_half(t) = [−t₂, t₁] = swap(t) · sign with swap(t) = [t₂, t₁] and sign = [−1…, +1…]: the
    // sign rides on the sin table, so rope(t) = t · cos + swap(t) · (sign · sin).
    const sign = Float32Array.from({ length: hd }, (_, i) => (i < hd / 2 ? -1 : 1));
    const sinSigned = g.node('Mul', [sin, g.f32('rope.rotate_half_sign', [hd], sign)], [], 'rope');
    positional = {
      cos,
      sin: sinSigned,
      cosQ: g.node('Mul', [cos, scale], [], 'rope'),
      sinQ: g.node('Mul', [sinSigned, scale], [], 'rope'),
      mask: g.node('Where', [future, g.constF32(-1e9), g.constF32(0)], [], 'mask'),
    };
    return positional;
  };

  const meanAxis = [{ name: 'axes', ints: [-1] }, { name: 'keepdims', int: 1 }];
  const rmsNorm = (x: string, weightName: string, prefix: string, as?: string): string => {
    const ms = g.node('ReduceMean', [g.node('Pow', [x, g.constF32(2)], [], prefix)], meanAxis, prefix);
    const normed = g.node('Div', [x, g.node('Sqrt', [g.node('Add', [ms, g.constF32(c.rmsNormEps)], [], prefix)], [], prefix)], [], prefix);
    return g.node('Mul', [normed, g.f32(weightName, [d], read(weightName))], [], prefix, as);
  };
  const outDims: Dim[] = ['batch', 'seq'];
  const arrow = options.arrowLogits ?? 'inputs';
  const centred = new Set(options.centred ?? []);
  for (const key of centred) if (!options.modules.includes(key)) throw new RangeError(`centred module "${key}" is not a routed module`);
  if (centred.size > 0 && arrow === 'none') throw new RangeError('centred modules need Arrow logits in the graph');
  const emit = (l: number, site: ModuleInputSite, x: string, dIn: number): void => {
    if (!wanted.has(`${l}:${site}`)) return;
    const name = siteOutputName(l, site);
    if (x !== name) throw new Error(`site ${name} was produced as ${x}`);
    g.output(x, TensorType.FLOAT, [...outDims, dIn]); // produced under its output's name (siteAs): no Identity copy
    outputs.push(name);
    if (arrow === 'none') return;
    for (const key of options.modules) {
      const s = moduleInputSite(key)!;
      if (s.layer !== l || s.site !== site) continue;
      const pName = prototypesInputName(key);
      let prototypes: string; // [adapters, dIn]
      if (arrow === 'inputs') {
        prototypes = g.input(pName, TensorType.FLOAT, ['adapters', dIn]);
      } else {
        const p = arrow.folded.get(key);
        if (!p) throw new RangeError(`no prototypes to fold for ${key}`);
        prototypes = g.f32(pName, [p.length / dIn, dIn], p);
      }
      const out = arrowLogitsName(key);
      const vT = g.node('Transpose', [prototypes], [{ name: 'perm', ints: [1, 0] }], out); // [dIn, adapters]
      const routed = centred.has(key) ? g.node('Sub', [x, g.input(centreInputName(key), TensorType.FLOAT, [dIn])], [], out) : x;
      g.output(g.node('Abs', [g.node('MatMul', [routed, vT], [], out)], [], out, out), TensorType.FLOAT, [...outDims, 'adapters']);
      outputs.push(out);
    }
  };
  // The name a site's hidden state is produced under: its output's, where the graph outputs it (no Identity copy).
  const siteAs = (l: number, site: ModuleInputSite) => (wanted.has(`${l}:${site}`) ? siteOutputName(l, site) : undefined);
  const done = (l: number, site: ModuleInputSite) => l === layers - 1 && site === lastSite;

  for (let l = 0; l < layers; l++) {
    const p = `model.layers.${l}`;
    const proj = (name: string) => read(`${p}.${name}.weight`);
    // Attention block. Layer 0's norm and q, k, v read the token's embedding alone: with tables, rows by id.
    const table0 = tables && l === 0 ? normedEmbeddings(embedding, c.vocabSize, d, read(`${p}.input_layernorm.weight`), c.rmsNormEps) : null;
    const x = table0
      ? tokenRows(`${p}.input_layernorm.token_table`, d, table0, `${p}.input_layernorm`, siteAs(l, 'attnIn'))
      : rmsNorm(h, `${p}.input_layernorm.weight`, `${p}.input_layernorm`, siteAs(l, 'attnIn')); // [B, T, d]
    emit(l, 'attnIn', x, d);
    if (done(l, 'attnIn')) break;
    const qkv = (name: string, dOut: number) =>
      table0
        ? tokenRows(`${p}.self_attn.${name}.token_table`, dOut, timesTransposed(table0, c.vocabSize, d, proj(`self_attn.${name}`), dOut), `${p}.self_attn`)
        : linear(x, `${p}.self_attn.${name}.weight_t`, [d, dOut], fusedTranspose([proj(`self_attn.${name}`)], [dOut], d), `${p}.self_attn`);
    const q = qkv('q_proj', qDim);
    const k = qkv('k_proj', kvDim);
    const v = qkv('v_proj', kvDim);
    const heads = (t: string, n: number) => g.node('Transpose', [g.node('Reshape', [t, g.constI64([0, 0, n, hd])], [], `${p}.self_attn`)], [{ name: 'perm', ints: [0, 2, 1, 3] }], `${p}.self_attn`); // [B, n, T, hd]
    const { cos, sin, cosQ, sinQ, mask } = positions();
    // swap(t) of [B, n, T, hd]: the two halves of each head exchanged, as a Gather of [B, n, T, 2, hd/2] on its halves axis.
    const swap = (t: string) => g.node('Reshape', [g.node('Gather', [g.node('Reshape', [t, g.constI64([0, 0, 0, 2, hd / 2])], [], `${p}.rope`), g.constI64([1, 0])], [{ name: 'axis', int: 3 }], `${p}.rope`), g.constI64([0, 0, 0, hd])], [], `${p}.rope`);
    const rope = (t: string, cs: string, sn: string) => g.node('Add', [g.node('Mul', [t, cs], [], `${p}.rope`), g.node('Mul', [swap(t), sn], [], `${p}.rope`)], [], `${p}.rope`);
    const qr = rope(heads(q, H), cosQ, sinQ); // [B, H, T, hd], scaled by 1/√hd
    const kr = rope(heads(k, Hkv), cos, sin); // [B, Hkv, T, hd]
    const vh = heads(v, Hkv); // [B, Hkv, T, hd]
    const kT = g.node('Transpose', [kr], [{ name: 'perm', ints: [0, 1, 3, 2] }], `${p}.self_attn`); // [B, Hkv, hd, T]
    let attnHeads: string; // [B, H, T, hd]
    if (grp === 1) {
      const probs = g.node('Softmax', [g.node('Add', [g.node('MatMul', [qr, kT], [], `${p}.self_attn`), mask], [], `${p}.self_attn`)], [{ name: 'axis', int: -1 }], `${p}.self_attn`);
      attnHeads = g.node('MatMul', [probs, vh], [], `${p}.self_attn`);
    } else {
      // Query head h = kv·grp + r reads KV head kv (HF repeat_kv), by broadcasting over r.
      const q5 = g.node('Reshape', [qr, g.constI64([0, Hkv, grp, -1, hd])], [], `${p}.self_attn`); // [B, Hkv, grp, T, hd]
      const axis2 = g.constI64([2]);
      const k5 = g.node('Unsqueeze', [kT, axis2], [], `${p}.self_attn`); // [B, Hkv, 1, hd, T]
      const v5 = g.node('Unsqueeze', [vh, axis2], [], `${p}.self_attn`); // [B, Hkv, 1, T, hd]
      const probs = g.node('Softmax', [g.node('Add', [g.node('MatMul', [q5, k5], [], `${p}.self_attn`), mask], [], `${p}.self_attn`)], [{ name: 'axis', int: -1 }], `${p}.self_attn`); // [B, Hkv, grp, T, T]
      attnHeads = g.node('Reshape', [g.node('MatMul', [probs, v5], [], `${p}.self_attn`), g.constI64([0, H, -1, hd])], [], `${p}.self_attn`);
    }
    const attn = g.node('Reshape', [g.node('Transpose', [attnHeads], [{ name: 'perm', ints: [0, 2, 1, 3] }], `${p}.self_attn`), g.constI64([0, 0, qDim])], [], `${p}.self_attn`, siteAs(l, 'attnOut')); // [B, T, qDim]
    emit(l, 'attnOut', attn, qDim);
    if (done(l, 'attnOut')) break;
    h = g.node('Add', [h, linear(attn, `${p}.self_attn.o_proj.weight_t`, [qDim, d], fusedTranspose([proj('self_attn.o_proj')], [d], qDim), `${p}.self_attn`)], [], p);
    // MLP block.
    const x2 = rmsNorm(h, `${p}.post_attention_layernorm.weight`, `${p}.post_attention_layernorm`, siteAs(l, 'mlpIn')); // [B, T, d]
    emit(l, 'mlpIn', x2, d);
    if (done(l, 'mlpIn')) break;
    const gate = linear(x2, `${p}.mlp.gate_proj.weight_t`, [d, ff], fusedTranspose([proj('mlp.gate_proj')], [ff], d), `${p}.mlp`);
    const up = linear(x2, `${p}.mlp.up_proj.weight_t`, [d, ff], fusedTranspose([proj('mlp.up_proj')], [ff], d), `${p}.mlp`);
    const act = g.node('Mul', [g.node('Mul', [gate, g.node('Sigmoid', [gate], [], `${p}.mlp`)], [], `${p}.mlp`), up], [], `${p}.mlp`, siteAs(l, 'mlpAct')); // silu(gate)·up [B, T, ff]
    emit(l, 'mlpAct', act, ff);
    if (done(l, 'mlpAct')) break;
    h = g.node('Add', [h, linear(act, `${p}.mlp.down_proj.weight_t`, [ff, d], fusedTranspose([proj('mlp.down_proj')], [d], ff), `${p}.mlp`)], [], p);
  }

  const bytes = g.encode({
    irVersion: EMBEDDER_IR_VERSION,
    opset: EMBEDDER_OPSET,
    producerName: 'quiver',
    producerVersion: options.producerVersion ?? '',
    docString: `Arrow embedder: the first ${layers} layer(s) of ${options.baseModel ?? 'a Llama model'}; outputs are the inputs of its routed modules.`,
    metadata: {
      'quiver.embedder': JSON.stringify({ baseModel: options.baseModel ?? null, layers, weightDtype, tokenTables: tables, modules: [...options.modules] }),
    },
  });
  return { bytes, layers, outputs };
}
