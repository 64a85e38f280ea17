/**
 * Request-level Arrow over a batch of prompts, as the edge computes it (docs/method.md, "Request-level
 * Arrow"): the base model's input to every routed module over the prompt's tokens (<bos> input
 * separator, as training and shared/router/prompt-ids.ts encode it), per-token weights
 * (arrowTokenWeights), averaged over tokens and modules (aggregateRequestRouting). The per-layer
 * winners come along: which layers' routing agrees with the task is a question the report asks.
 */
import * as tf from '@tensorflow/tfjs';
import { aggregateRequestRouting, type RequestRouting } from '../../shared/arrow/request-routing.js';
import type { RoutedModule, RoutingDefaults } from '../../shared/manifest/schema.js';
import { arrowTokenWeights } from '../../shared/arrow/token-routing.js';
import type { LlamaModel } from '../model/llama.js';
import { parseProjectionKey } from '../model/projections.js';

/** A routed module (the manifest's RoutedModule, in part) with its prototypes. */
export interface ModulePrototypes extends Pick<RoutedModule, 'key' | 'dIn'> {
  /** Row-major [adapters, dIn]. */
  prototypes: Float32Array;
}

export interface PromptRouting extends RequestRouting {
  /** Per layer (index = layer; -1 where no module of the layer is routed): the adapter that layer's modules alone rank first. */
  layerBest: number[];
}

export function routePrompts(model: LlamaModel, prompts: readonly (readonly number[])[], modules: readonly ModulePrototypes[], adapters: number, opts: Pick<RoutingDefaults, 'topK' | 'temperature'>, padId: number, chunk = 128): PromptRouting[] {
  if (modules.length === 0) throw new RangeError('request routing needs at least one routed module');
  const layers = modules.map((m) => {
    const parsed = parseProjectionKey(m.key);
    if (!parsed) throw new RangeError(`"${m.key}" is not a projection of a Llama layer`);
    return parsed.layer;
  });
  const numLayers = model.config.numHiddenLayers;
  const out: PromptRouting[] = [];
  for (let start = 0; start < prompts.length; start += chunk) {
    const part = prompts.slice(start, start + chunk);
    const B = part.length;
    const T = Math.max(...part.map((p) => p.length));
    const ids = new Int32Array(B * T).fill(padId);
    part.forEach((p, b) => ids.set(p, b * T));
    // Module inputs, batch-major [B, T, dIn]; q, k and v read the same tensor, read once. Not
    // returned from tidy: tidy walks every element of a returned typed array.
    let hidden: Float32Array[] = [];
    tf.tidy(() => {
      const { captures } = model.hiddenStates({ ids, batchSize: B, seqLen: T }, { captures: modules.map((m) => m.key) });
      const seen = new Map<tf.Tensor, Float32Array>();
      hidden = modules.map((m) => {
        const t = captures[m.key]!;
        if (!seen.has(t)) seen.set(t, t.dataSync() as Float32Array);
        return seen.get(t)!;
      });
    });
    part.forEach((p, b) => {
      const L = p.length;
      const perModule = modules.map((m, j) => {
        const x = hidden[j]!.subarray(b * T * m.dIn, (b * T + L) * m.dIn); // the prompt's L tokens
        return arrowTokenWeights(x, L, m.prototypes, adapters, m.dIn, opts);
      });
      const routing = aggregateRequestRouting(perModule, L, adapters, { topK: opts.topK, threshold: 0 });
      const layerBest = Array.from({ length: numLayers }, (_, l) => {
        const mine = perModule.filter((_, j) => layers[j] === l);
        return mine.length === 0 ? -1 : aggregateRequestRouting(mine, L, adapters, { topK: 1, threshold: 0 }).selected[0]!.index;
      });
      out.push({ ...routing, layerBest });
    });
  }
  return out;
}
