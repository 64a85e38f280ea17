/**
 * One training step's loss and gradients, the backward pass written out block by block instead of
 * recorded on TensorFlow.js's tape (docs/environment.md, "TensorFlow.js"). Why: the tape copies
 * every tensor a gradient will read (on wasm a clone is a real copy, 121 of them per step of the
 * bench's model), runs each op's generic gradient (casts, broadcast reductions, transposes of
 * transposes) and sums gradients op by op; here the forward pass keeps exactly what the backward
 * pass reads, and the backward pass computes only what a trainable weight needs:
 *  - a frozen base gets no weight gradient, and no input gradient below the first trainable module
 *    (a LoRA on every layer's q and v: layer 0's q, k and v projections, its k and its input norm
 *    are never differentiated);
 *  - a frozen weight's transpose is the model's cached one (linear.ts);
 *  - a frozen model's layer-0 q, k and v are rows of per-token tables (FirstLayerTables in
 *    llama.ts), not matmuls;
 *  - the last layer's o projection and MLP run on the rows that carry a loss only (the others
 *    reach no loss: the last layer's other outputs feed nothing) when those are few, as in
 *    answer-only training (14% of the default suite's rows);
 *  - attention's gradients land in the layouts their consumers read (attention.ts).
 * The forward pass is the model's own (llama.ts uses the same block functions), and the result is
 * the same as differentiating it: test/model-train.test.ts checks the gradients against finite
 * differences, test/train-step-losses.test.ts the loss curve against the tape-based step's.
 */
import * as tf from '@tensorflow/tfjs';
import { causalAttention, causalAttentionBackward, type AttentionSaved } from '../model/attention.js';
import { rowsOf, rowsOfBackward } from '../model/gather-rows.js';
import type { LlamaModel } from '../model/llama.js';
import type { Lora, LoraGroupSaved } from '../model/lora.js';
import { groupLayout, PROJECTION_GROUPS, type ProjectionGroup, type ProjectionName } from '../model/projections.js';
import { rmsNormBackward, rmsNormForward, rmsNormWeightGrad, type RmsNormSaved } from '../model/rms-norm.js';
import { swigluBackward, swigluForward, type SwigluSaved } from '../model/swiglu.js';
import { requireLossRows } from './causal-lm-loss.js';
import { crossEntropyWithGrad } from './cross-entropy.js';
import type { TrainBatch } from './train-batch.js';

type Outputs = Partial<Record<ProjectionName, tf.Tensor2D>>;

interface ProjectionSaved {
  x: tf.Tensor2D;
  lora: LoraGroupSaved | null;
}

interface LayerSaved {
  /** null where layer 0's input came from the per-token tables. */
  norm1: RmsNormSaved | null;
  qkv: ProjectionSaved;
  attention: AttentionSaved;
  o: ProjectionSaved;
  norm2: RmsNormSaved;
  gateUp: ProjectionSaved;
  act: SwigluSaved;
  down: ProjectionSaved;
}

export interface LossAndGrads {
  /** Mean loss over the batch's answer tokens. */
  loss: tf.Scalar;
  /** One gradient per trainable variable, in the order of lora.variables() or model.variables(). */
  grads: tf.Tensor[];
  tokens: number;
}

/** Where a group sits in forward order: the gradient at a site's input is needed iff something trains before it. */
function siteOf(layer: number, group: ProjectionGroup): number {
  return layer * PROJECTION_GROUPS.length + PROJECTION_GROUPS.indexOf(group);
}

/**
 * The last layer narrows to the loss rows when they are at most this share of all rows. Gathering
 * and scattering the rows costs about what running the last layer's o and MLP on 20% more rows
 * does: with a loss on almost every row (the bench, pretraining) narrowing measured 5% slower, with
 * answer-only losses (the default library's 4-layer base, 8 answer tokens of 48) 10% faster.
 */
const NARROW_BELOW = 0.8;

/**
 * Loss and gradients of `batch` (dropout on) for `lora` on the frozen `model`, or, with lora null,
 * for every weight of a model built with { trainable: true }. Call inside tf.tidy.
 */
export function lossAndGrads(model: LlamaModel, lora: Lora | null, batch: TrainBatch): LossAndGrads {
  const trainBase = lora === null;
  if (trainBase && !model.trainable) throw new Error('training the base needs a model built with { trainable: true }');
  const c = model.config;
  const parts = model.parts();
  const { batchSize: B, seqLen: T } = batch;
  const n = B * T;
  const shape = model.attentionShape(B, T);
  const tables = parts.attentionTables(T);
  const { rows, targets } = requireLossRows(batch);
  const ids = model.timeMajorIds({ ids: batch.inputIds, batchSize: B, seqLen: T });

  const firstTrainable = trainBase
    ? -1 // the embedding
    : Math.min(...Array.from({ length: c.numHiddenLayers }, (_, l) => PROJECTION_GROUPS.filter((g) => lora.targets(l, g)).map((g) => siteOf(l, g))).flat());
  const needsInputGrad = (layer: number, group: ProjectionGroup): boolean => firstTrainable < siteOf(layer, group);
  const loraOn = (name: ProjectionName): boolean => lora?.config.targetModules.includes(name) ?? false;

  const grads = new Map<tf.Tensor, tf.Tensor>();
  const addGrad = (v: tf.Tensor, g: tf.Tensor): void => {
    const prev = grads.get(v);
    grads.set(v, prev ? tf.add(prev, g) : g);
  };

  /** A group's outputs on x (given in `base` when already known), plus the LoRA's deltas; `subset` as Lora.trainingDeltas. */
  const project = (layer: number, group: ProjectionGroup, x: tf.Tensor2D, subset?: { of: number; rows: Int32Array }, base?: Outputs): { out: Outputs; saved: ProjectionSaved } => {
    const adapted = lora?.trainingDeltas(layer, group, x, true, subset) ?? null;
    const out: Outputs = {};
    for (const { name } of groupLayout(c, group).members) {
      const y: tf.Tensor2D = base?.[name] ?? tf.matMul(x, parts.layers[layer]!.proj[name]);
      const delta = adapted?.deltas[name];
      out[name] = delta ? (tf.add(y, delta) as tf.Tensor2D) : y;
    }
    return { out, saved: { x, lora: adapted?.saved ?? null } };
  };

  /** Weight gradients of a group from the gradients at its outputs, and the gradient at its input when `needDx`. */
  const projectBackward = (layer: number, group: ProjectionGroup, saved: ProjectionSaved, dy: Outputs, needDx: boolean): tf.Tensor2D | null => {
    const weights = parts.layers[layer]!.proj;
    const members = groupLayout(c, group).members.filter((m) => dy[m.name]);
    let dx: tf.Tensor2D | null = null;
    const addDx = (t: tf.Tensor2D): void => {
      dx = dx ? (tf.add(dx, t) as tf.Tensor2D) : t;
    };
    if (trainBase) {
      const xT = tf.transpose(saved.x); // one transpose for every member of the group
      for (const m of members) addGrad(weights[m.name], tf.matMul(xT, dy[m.name]!));
    }
    if (needDx) {
      for (const m of members) {
        const w = weights[m.name];
        addDx(tf.matMul(dy[m.name]!, trainBase ? tf.transpose(w) : parts.frozen(w)!.wT) as tf.Tensor2D);
      }
    }
    if (saved.lora) {
      const back = lora!.trainingBackward(saved.lora, dy, needDx);
      for (const [v, g] of back.grads) addGrad(v, g);
      if (back.dx) addDx(back.dx);
    }
    return dx;
  };

  // Forward, keeping what the backward pass reads. The last layer may narrow to the loss rows after
  // its attention (which needs every row's keys and values).
  const rowIds = tf.tensor1d(rows, 'int32');
  const lossSubset = { of: n, rows };
  const last = parts.layers.length - 1;
  const narrowLast = rows.length <= NARROW_BELOW * n;
  const firstLayer = parts.firstLayerTables();
  const saved: LayerSaved[] = [];
  let h = rowsOf(parts.embedTokens, ids); // [T·B, d]
  parts.layers.forEach((w, l) => {
    let norm1: RmsNormSaved | null = null;
    let qkv: { out: Outputs; saved: ProjectionSaved };
    if (l === 0 && firstLayer) {
      const base = { q_proj: rowsOf(firstLayer.q, ids), k_proj: rowsOf(firstLayer.k, ids), v_proj: rowsOf(firstLayer.v, ids) };
      qkv = project(l, 'qkv', rowsOf(firstLayer.x, ids), undefined, base);
    } else {
      const normed = rmsNormForward(h, w.inputLayernorm, parts.eps);
      norm1 = normed.saved;
      qkv = project(l, 'qkv', normed.y);
    }
    const attention = causalAttention(qkv.out.q_proj!, qkv.out.k_proj!, qkv.out.v_proj!, shape, tables);
    const narrow = narrowLast && l === last;
    const subset = narrow ? lossSubset : undefined;
    const o = project(l, 'o', narrow ? rowsOf(attention.out, rowIds) : attention.out, subset);
    const h1 = tf.add(narrow ? rowsOf(h, rowIds) : h, o.out.o_proj!) as tf.Tensor2D;
    const norm2 = rmsNormForward(h1, w.postAttentionLayernorm, parts.eps);
    const gateUp = project(l, 'gateUp', norm2.y, subset);
    const act = swigluForward(gateUp.out.gate_proj!, gateUp.out.up_proj!);
    const down = project(l, 'down', act.y, subset);
    h = tf.add(h1, down.out.down_proj!) as tf.Tensor2D;
    saved.push({ norm1, qkv: qkv.saved, attention: attention.saved, o: o.saved, norm2: norm2.saved, gateUp: gateUp.saved, act: act.saved, down: down.saved });
  });

  // The loss rows (h holds only those if the last layer narrowed) through the final norm and the
  // LM head (logits = x·W, tied: W = embed_tokensᵀ).
  const final = rmsNormForward(narrowLast ? h : rowsOf(h, rowIds), parts.norm, parts.eps);
  const E = parts.embedTokens;
  const headW = parts.lmHead ?? (trainBase ? tf.transpose(E) : parts.frozen(E)!.w);
  const { loss, dLogits } = crossEntropyWithGrad(tf.matMul(final.y, headW), targets);

  // Backward.
  const headWT = parts.lmHead ? (trainBase ? tf.transpose(parts.lmHead) : parts.frozen(parts.lmHead)!.wT) : E;
  const dFinal = tf.matMul(dLogits, headWT) as tf.Tensor2D; // [tokens, d]
  if (trainBase) {
    const dW = tf.matMul(tf.transpose(final.y), dLogits); // [d, vocab]
    addGrad(parts.lmHead ?? E, parts.lmHead ? dW : tf.transpose(dW));
    addGrad(parts.norm, rmsNormWeightGrad(dFinal, final.saved));
  }
  const dLossRows = rmsNormBackward(dFinal, final.saved, parts.norm); // [tokens, d]
  let dh = narrowLast ? dLossRows : rowsOfBackward(dLossRows, rowIds, n); // [T·B, d] below a narrowed layer: 0 on rows without a loss
  for (let l = last; l >= 0; l--) {
    const w = parts.layers[l]!;
    const s = saved[l]!;
    const narrow = narrowLast && l === last;
    const dAct = projectBackward(l, 'down', s.down, { down_proj: dh }, needsInputGrad(l, 'down'));
    if (!dAct) break;
    const { dGate, dUp } = swigluBackward(dAct, s.act);
    const dNorm2 = projectBackward(l, 'gateUp', s.gateUp, { gate_proj: dGate, up_proj: dUp }, needsInputGrad(l, 'gateUp'));
    if (!dNorm2) break;
    if (trainBase) addGrad(w.postAttentionLayernorm, rmsNormWeightGrad(dNorm2, s.norm2));
    const dh1 = tf.add(dh, rmsNormBackward(dNorm2, s.norm2, w.postAttentionLayernorm)) as tf.Tensor2D;
    const dAttentionRows = projectBackward(l, 'o', s.o, { o_proj: dh1 }, needsInputGrad(l, 'o'));
    if (!dAttentionRows) break;
    const dAttention = narrow ? rowsOfBackward(dAttentionRows, rowIds, n) : dAttentionRows; // rows without a loss: 0
    const below = needsInputGrad(l, 'qkv');
    const { dq, dk, dv } = causalAttentionBackward(dAttention, s.attention, shape, tables, {
      q: below || loraOn('q_proj'),
      k: below || loraOn('k_proj'),
      v: below || loraOn('v_proj'),
    });
    const dQkv: Outputs = {};
    if (dq) dQkv.q_proj = dq;
    if (dk) dQkv.k_proj = dk;
    if (dv) dQkv.v_proj = dv;
    const dNorm1 = projectBackward(l, 'qkv', s.qkv, dQkv, below);
    if (!dNorm1) break;
    const norm1 = s.norm1!; // layer 0's tables serve frozen models only, which need no gradient there
    if (trainBase) addGrad(w.inputLayernorm, rmsNormWeightGrad(dNorm1, norm1));
    dh = tf.add(narrow ? rowsOfBackward(dh1, rowIds, n) : dh1, rmsNormBackward(dNorm1, norm1, w.inputLayernorm)) as tf.Tensor2D;
  }
  if (trainBase) addGrad(E, rowsOfBackward(dh, ids, c.vocabSize));

  const variables = lora ? lora.variables() : model.variables();
  return { loss, grads: variables.map((v) => grads.get(v) ?? tf.zerosLike(v)), tokens: rows.length };
}
