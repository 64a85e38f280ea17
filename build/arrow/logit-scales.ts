/**
 * Scaled prototypes (docs/method.md, "Scaled prototypes"): each adapter's Arrow logit
 * |(x − c) · v_e| measured in units of its own spread. σ_e (per routed module and adapter) is the
 * standard deviation of that logit over the tokens of the library's training prompts, each task
 * weighing the same (the mixture of the tasks' token distributions); the prototype stored is
 * v_e / σ_e, so every runtime computes |(x − c) · v_e| / σ_e with no change to the router.
 *
 * Why: a unit prototype that lies along a direction where every prompt's inputs spread widely
 * scores high for every prompt, and its adapter takes a multiple of its share (the "hub"); the
 * scale puts each adapter's logits on the same footing (README, "Routing study").
 *
 * `quiver compile` stores the scaled prototypes; eval's in-memory manifest and its per-token
 * routers, `quiver serve` and the routing study scale the same way here.
 */
import * as tf from '@tensorflow/tfjs';
import type { Tokenizer } from '../../shared/tokenizer/tokenizer.js';
import type { LibraryIndex } from '../io/library-index.js';
import { arrowPrototypes, type ArrowExpert } from '../model/arrow-router.js';
import type { LlamaModel } from '../model/llama.js';
import { libraryTrainingPrompts } from './input-centres.js';
import { capturePrompts } from './prompt-captures.js';

/**
 * σ_e per module key: the task-balanced standard deviation over every prompt token of
 * |(x − c) · v_e| (c: `centres`' vector for the module, or none), `prototypes` row-major [adapters, dIn].
 */
export function logitScales(
  model: LlamaModel,
  taskPrompts: ReadonlyArray<ReadonlyArray<readonly number[]>>,
  prototypes: ReadonlyMap<string, Float32Array>,
  centres: ReadonlyMap<string, Float32Array> | undefined,
  padId: number,
): Map<string, Float32Array> {
  const keys = [...prototypes.keys()];
  const m1 = new Map<string, Float64Array>();
  const m2 = new Map<string, Float64Array>();
  let tasks = 0;
  for (const prompts of taskPrompts) {
    if (prompts.length === 0) continue;
    tasks++;
    const c = capturePrompts(model, prompts, keys, padId, (key, x) => {
      const v = prototypes.get(key)!;
      const dIn = x.shape[1];
      const centre = centres?.get(key);
      const routed = centre ? x.sub(tf.tensor1d(centre)) : x;
      return tf.abs(tf.matMul(routed, tf.tensor2d(v, [v.length / dIn, dIn]), false, true)); // [B·T, adapters]
    });
    keys.forEach((key, j) => {
      const z = c.data[j]!;
      const A = z.length / (prompts.length * c.seqLen);
      const a1 = m1.get(key) ?? new Float64Array(A);
      const a2 = m2.get(key) ?? new Float64Array(A);
      const s1 = new Float64Array(A);
      const s2 = new Float64Array(A);
      c.forEachToken((row) => {
        for (let e = 0; e < A; e++) {
          const v = z[row * A + e]!;
          s1[e]! += v;
          s2[e]! += v * v;
        }
      });
      for (let e = 0; e < A; e++) {
        a1[e]! += s1[e]! / c.rows;
        a2[e]! += s2[e]! / c.rows;
      }
      m1.set(key, a1);
      m2.set(key, a2);
    });
  }
  if (tasks === 0) throw new RangeError('scaled prototypes need at least one prompt');
  return new Map(
    keys.map((k) => {
      const a1 = m1.get(k)!;
      const a2 = m2.get(k)!;
      return [k, Float32Array.from(a1, (s, e) => Math.sqrt(Math.max(0, a2[e]! / tasks - (s / tasks) ** 2)))];
    }),
  );
}

/**
 * v_e / σ_e, row by row. A row with σ_e = 0 (a zero prototype: B·A = 0, or a logit that never
 * varies) is left as it is: there is no spread to measure it in.
 */
export function scalePrototypes(prototypes: ReadonlyMap<string, Float32Array>, scales: ReadonlyMap<string, Float32Array>): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [key, p] of prototypes) {
    const s = scales.get(key);
    if (!s) throw new RangeError(`no logit scales for routed module ${key}`);
    const dIn = p.length / s.length;
    if (!Number.isInteger(dIn)) throw new RangeError(`${key}: ${p.length} prototype values for ${s.length} adapters`);
    const scaled = new Float32Array(p.length);
    for (let e = 0; e < s.length; e++) {
      const f = s[e]! > 0 && Number.isFinite(s[e]!) ? 1 / s[e]! : 1;
      for (let d = 0; d < dIn; d++) scaled[e * dIn + d] = p[e * dIn + d]! * f;
    }
    out.set(key, scaled);
  }
  return out;
}

/** The logit scales of one pool's prototypes on a trained library's training prompts (library.json's task folder). */
export async function libraryLogitScales(
  libraryDir: string,
  index: LibraryIndex,
  model: LlamaModel,
  tokenizer: Tokenizer,
  prototypes: ReadonlyMap<string, Float32Array>,
  centres: ReadonlyMap<string, Float32Array> | undefined,
): Promise<Map<string, Float32Array>> {
  return logitScales(model, await libraryTrainingPrompts(libraryDir, index, tokenizer), prototypes, centres, tokenizer.padId ?? 0);
}

/** Per-token Arrow's prototypes of `experts` (arrowPrototypes), scaled on `taskPrompts` as compile scales a pool, and the scales. */
export function scaledArrowPrototypes(
  model: LlamaModel,
  experts: readonly ArrowExpert[],
  taskPrompts: ReadonlyArray<ReadonlyArray<readonly number[]>>,
  centres: ReadonlyMap<string, Float32Array>,
  padId: number,
): { scales: Map<string, Float32Array>; prototypes: Map<string, Float32Array> } {
  const unit = arrowPrototypes(model.config, experts);
  const scales = unit.size === 0 ? new Map<string, Float32Array>() : logitScales(model, taskPrompts, unit, centres, padId);
  return { scales, prototypes: scalePrototypes(unit, scales) };
}
