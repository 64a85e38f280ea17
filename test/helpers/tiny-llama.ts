/** Tiny random Llama weights for tests: large enough values that errors would show. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { llamaConfig, toHfConfig, type LlamaConfig, type LlamaConfigInput } from '../../build/model/config.js';
import { hfTensorShapes } from '../../build/model/llama.js';
import { Rng } from '../../shared/random.js';
import { serializeSafetensors } from '../../shared/safetensors.js';

export function tinyConfig(overrides: Partial<LlamaConfigInput> = {}): LlamaConfig {
  return llamaConfig({
    vocabSize: 40,
    hiddenSize: 32,
    intermediateSize: 48,
    numHiddenLayers: 2,
    numAttentionHeads: 4,
    maxPositionEmbeddings: 64,
    ropeTheta: 100, // a small base makes every frequency turn visibly over a few positions
    ...overrides,
  });
}

/** HF-named random weights: matrices N(0, 0.3²), norms 1 + N(0, 0.1²). */
export function tinyWeights(config: LlamaConfig, seed: number): Map<string, { shape: number[]; data: Float32Array }> {
  const rng = new Rng(seed);
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, shape] of hfTensorShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = shape.length === 1 ? rng.normals(n, 0.1).map((x) => 1 + x) : rng.normals(n, 0.3);
    out.set(name, { shape, data });
  }
  return out;
}

/** Writes the weights as a safetensors file in `dir`; returns its path and the HF config object. */
export async function writeTinyWeights(dir: string, config: LlamaConfig, weights: Map<string, { shape: number[]; data: Float32Array }>): Promise<{ path: string; hfConfig: Record<string, unknown> }> {
  const path = join(dir, 'weights.safetensors');
  const tensors = [...weights].map(([name, w]) => ({ name, dtype: 'F32' as const, shape: w.shape, data: w.data }));
  await writeFile(path, serializeSafetensors(tensors));
  return { path, hfConfig: toHfConfig(config) };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
