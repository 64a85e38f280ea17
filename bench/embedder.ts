/**
 * Where the Arrow product |x·v| runs, measured in onnxruntime-node (one intra-op thread, as the
 * edge has one). Baseline: hidden states out of the graph, logits in JavaScript (arrowTokenWeights).
 * Against: the prototypes fed to the graph as inputs (what `quiver compile` writes: one embedder
 * serves any manifest of its base), and the prototypes folded into the graph as constants (ties
 * the file to one library). Random weights: only sizes and times matter here.
 * Shapes: Quiver's default byte-level base (d 128, 4 layers) and SmolLM-135M's (d 576, 9 heads on
 * 3 KV heads, vocab 49152) with its first 4 layers at the edge.
 */
import * as ort from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { llamaConfig, type LlamaConfig } from '../build/model/config.js';
import { hfTensorShapes } from '../build/model/llama.js';
import { writeLlamaEmbedder, type WeightDtype } from '../build/onnx/llama-embedder.js';
import { aggregateRequestRouting } from '../shared/arrow/request-routing.js';
import { arrowTokenWeights } from '../shared/arrow/token-routing.js';
import { Rng } from '../shared/random.js';
import { arrowWeightsFromLogits } from '../shared/arrow/logit-routing.js';
import { arrowLogitsName, embedderOutputName, prototypesInputName } from '../shared/router/embedder-outputs.js';

export interface EmbedderBenchCase {
  name: string;
  config: LlamaConfig;
  layers: number;
  adapters: number;
  tokens: number;
}

export const EMBEDDER_BENCH_CASES: EmbedderBenchCase[] = [
  {
    name: 'default base (d 128, 4 layers), 39 adapters',
    config: llamaConfig({ vocabSize: 259, hiddenSize: 128, intermediateSize: 384, numHiddenLayers: 4, numAttentionHeads: 4, maxPositionEmbeddings: 96 }),
    layers: 4,
    adapters: 39,
    tokens: 48,
  },
  {
    name: 'SmolLM-135M shape, first 4 of 30 layers, 39 adapters',
    config: llamaConfig({ vocabSize: 49152, hiddenSize: 576, intermediateSize: 1536, numHiddenLayers: 30, numAttentionHeads: 9, numKeyValueHeads: 3, maxPositionEmbeddings: 2048 }),
    layers: 4,
    adapters: 39,
    tokens: 48,
  },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function time(fn: () => Promise<unknown>, runs: number): Promise<number> {
  await fn();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

export async function benchEmbedder(c: EmbedderBenchCase): Promise<void> {
  const rng = new Rng(1);
  const shapes = hfTensorShapes(c.config);
  const weights = new Map<string, Float32Array>();
  const read = (name: string): Float32Array => {
    let w = weights.get(name);
    if (!w) {
      const n = shapes.get(name)!.reduce((a, b) => a * b, 1);
      w = shapes.get(name)!.length === 1 ? new Float32Array(n).fill(1) : rng.normals(n, 0.02);
      weights.set(name, w);
    }
    return w;
  };
  const modules = Array.from({ length: c.layers }, (_, l) => ['q_proj', 'k_proj', 'v_proj', 'o_proj'].map((n) => `model.layers.${l}.self_attn.${n}`)).flat();
  const dIn = c.config.hiddenSize; // q/k/v read d; o reads heads·headDim = d here
  const prototypes = new Map(modules.map((k) => [k, rng.normals(c.adapters * dIn, 1 / Math.sqrt(dIn))]));
  const ids = Array.from({ length: c.tokens }, () => rng.int(c.config.vocabSize));
  const idsTensor = new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, c.tokens]);
  const protoFeeds = Object.fromEntries(modules.map((k) => [prototypesInputName(k), new ort.Tensor('float32', prototypes.get(k)!, [c.adapters, dIn])]));
  const routing = { topK: 3, temperature: 1, threshold: 0 };

  console.log(`embedder: ${c.name}, ${modules.length} routed modules, ${c.tokens} tokens, onnxruntime-node 1 thread`);
  const variants: Array<{ label: string; dtype: WeightDtype; arrow: 'none' | 'inputs' | 'folded' }> = [
    { label: 'logits in JS, f32 (baseline)', dtype: 'f32', arrow: 'none' },
    { label: 'logits in JS, f16', dtype: 'f16', arrow: 'none' },
    { label: 'prototypes as inputs, f32', dtype: 'f32', arrow: 'inputs' },
    { label: 'prototypes as inputs, f16', dtype: 'f16', arrow: 'inputs' },
    { label: 'prototypes as inputs, int8', dtype: 'int8', arrow: 'inputs' },
    { label: 'prototypes folded, f32', dtype: 'f32', arrow: 'folded' },
  ];
  let baseline = 0;
  for (const v of variants) {
    const m = writeLlamaEmbedder(c.config, read, { modules, weightDtype: v.dtype, arrowLogits: v.arrow === 'folded' ? { folded: prototypes } : v.arrow });
    const t0 = performance.now();
    const session = await ort.InferenceSession.create(m.bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    const createMs = performance.now() - t0;
    const feeds = v.arrow === 'inputs' ? { ...protoFeeds, input_ids: idsTensor } : { input_ids: idsTensor };
    const fetches = v.arrow === 'none' ? [...new Set(modules.map((k) => embedderOutputName(k)!))] : modules.map(arrowLogitsName);
    const runs = c.config.hiddenSize > 256 ? 10 : 30;
    const graphMs = await time(() => session.run(feeds, fetches), runs);
    const totalMs = await time(async () => {
      const out = await session.run(feeds, fetches);
      const perModule = modules.map((k) =>
        v.arrow === 'none'
          ? arrowTokenWeights(out[embedderOutputName(k)!]!.data as Float32Array, c.tokens, prototypes.get(k)!, c.adapters, dIn, routing)
          : arrowWeightsFromLogits(out[arrowLogitsName(k)]!.data as Float32Array, c.tokens, c.adapters, routing),
      );
      return aggregateRequestRouting(perModule, c.tokens, c.adapters, routing);
    }, runs);
    if (baseline === 0) baseline = totalMs;
    console.log(
      `  ${v.label.padEnd(30)} ${(m.bytes.length / 2 ** 20).toFixed(2).padStart(7)} MiB  load ${createMs.toFixed(0).padStart(5)} ms  graph ${graphMs.toFixed(2).padStart(7)} ms  graph + routing ${totalMs.toFixed(2).padStart(7)} ms  ratio ${(totalMs / baseline).toFixed(2)}×`,
    );
    await session.release();
    if (v.arrow === 'inputs' && v.dtype === 'f32') {
      // The edge's runtime: onnxruntime-web (wasm SIMD, one thread) in this process.
      ortWeb.env.wasm.numThreads = 1;
      const web = await ortWeb.InferenceSession.create(m.bytes);
      const webFeeds: Record<string, ortWeb.Tensor> = { input_ids: new ortWeb.Tensor('int64', idsTensor.data, idsTensor.dims) };
      for (const k of modules) webFeeds[prototypesInputName(k)] = new ortWeb.Tensor('float32', prototypes.get(k)!, [c.adapters, dIn]);
      const webMs = await time(() => web.run(webFeeds, fetches), runs);
      console.log(`  ${'  same in onnxruntime-web'.padEnd(30)} ${''.padStart(7)}                   graph ${webMs.toFixed(2).padStart(7)} ms`);
      await web.release();
    }
  }
}
