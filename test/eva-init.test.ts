import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../build/model/backend.js';
import { LlamaModel } from '../build/model/llama.js';
import { Lora } from '../build/model/lora.js';
import { moduleKey } from '../build/model/projections.js';
import { evaInitModules, topRightSingularVectors } from '../build/train/eva-init.js';
import { Rng } from '../shared/random.js';
import { runPython } from './helpers/python.js';
import { tinyConfig, tinyWeights } from './helpers/tiny-llama.js';

beforeAll(async () => {
  await selectBackend('wasm', { log: () => undefined });
});

/** numpy's SVD of rows [n, d] (centred or not): the top-r right singular vectors, signed as eva-init signs them. */
function numpyTopVectors(rows: Float32Array, n: number, d: number, r: number, centred: boolean): Float32Array {
  const out = runPython(
    `
import sys, numpy as np
n, d, r, centred = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == '1'
x = np.frombuffer(sys.stdin.buffer.read(), dtype='<f4').reshape(n, d).astype(np.float64)
if centred:
    x = x - x.mean(axis=0)
_, _, vt = np.linalg.svd(x, full_matrices=False)
v = vt[:r]
idx = np.argmax(np.abs(v), axis=1)
v = v * np.sign(v[np.arange(r), idx])[:, None]
sys.stdout.buffer.write(v.astype('<f4').tobytes())
`,
    new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength),
    [String(n), String(d), String(r), centred ? '1' : '0'],
  );
  return new Float32Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength));
}

describe('EVA init of A', () => {
  it('is the top right singular vectors of the inputs, raw and centred, as numpy computes them', () => {
    const rng = new Rng(4);
    const n = 40;
    const d = 12;
    // Inputs with a strong shared mean and a few dominant directions, as module inputs have.
    const rows = new Float32Array(n * d);
    const mean = rng.normals(d, 6);
    const dirs = [rng.normals(d, 1), rng.normals(d, 1), rng.normals(d, 1)];
    for (let i = 0; i < n; i++) {
      const c = [3 * rng.normal(), 2 * rng.normal(), rng.normal()];
      for (let j = 0; j < d; j++) rows[i * d + j] = mean[j]! + c[0]! * dirs[0]![j]! + c[1]! * dirs[1]![j]! + c[2]! * dirs[2]![j]! + 0.05 * rng.normal();
    }
    for (const centred of [false, true]) {
      const ours = topRightSingularVectors(rows, n, d, 3, centred);
      const ref = numpyTopVectors(rows, n, d, 3, centred);
      for (let i = 0; i < ours.length; i++) expect(ours[i]).toBeCloseTo(ref[i]!, 4);
    }
    // Centring changes the answer: the raw top direction is mostly the mean.
    const raw = topRightSingularVectors(rows, n, d, 1, false);
    const centred = topRightSingularVectors(rows, n, d, 1, true);
    let dot = 0;
    for (let j = 0; j < d; j++) dot += raw[j]! * centred[j]!;
    expect(Math.abs(dot)).toBeLessThan(0.95);
  });

  it('reads each prompt\'s own tokens only, gives q, k, v one A, keeps B zero, so the LoRA starts as the base', () => {
    const config = tinyConfig();
    const weights = tinyWeights(config, 7);
    const model = LlamaModel.fromHfTensors(config, (name) => weights.get(name)!.data);
    const prompts = [
      [1, 5, 9, 13, 2],
      [3, 8, 16, 24, 32, 11, 1, 7],
      [4, 4],
    ];
    const targetModules = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'down_proj'] as const;
    const modules = evaInitModules(model, prompts, { r: 2, targetModules, inputs: 'centred', padId: 0 });
    expect(modules.map((m) => m.key)).toEqual(
      Array.from({ length: config.numHiddenLayers }, (_, l) => targetModules.map((n) => moduleKey(l, n))).flat(),
    );
    // The reference: every prompt alone (no padding at all), its rows stacked.
    const key = moduleKey(1, 'o_proj');
    const stacked: number[] = [];
    for (const p of prompts) {
      tf.tidy(() => {
        const x = model.hiddenStates({ ids: Int32Array.from(p), batchSize: 1, seqLen: p.length }, { captures: [key] }).captures[key]!;
        stacked.push(...x.dataSync());
      });
    }
    const dIn = config.numAttentionHeads * config.headDim;
    const n = prompts.flat().length;
    const ref = numpyTopVectors(Float32Array.from(stacked), n, dIn, 2, true);
    const ours = modules.find((m) => m.key === key)!.a;
    for (let i = 0; i < ref.length; i++) expect(ours[i]).toBeCloseTo(ref[i]!, 4);

    const byKey = new Map(modules.map((m) => [m.key, m]));
    expect(byKey.get(moduleKey(0, 'k_proj'))!.a).toEqual(byKey.get(moduleKey(0, 'q_proj'))!.a);
    expect(byKey.get(moduleKey(0, 'v_proj'))!.a).toEqual(byKey.get(moduleKey(0, 'q_proj'))!.a);
    for (const m of modules) expect(m.b.every((x) => x === 0)).toBe(true);

    const lora = Lora.fromModules(config, { r: 2, loraAlpha: 4 }, modules);
    const batch = { ids: Int32Array.from(prompts[1]!), batchSize: 1, seqLen: prompts[1]!.length };
    const withLora = tf.tidy(() => model.forward(batch, { adapter: lora }).logits.dataSync());
    const plain = tf.tidy(() => model.forward(batch).logits.dataSync());
    expect(Array.from(withLora)).toEqual(Array.from(plain));
    lora.dispose();
    model.dispose();
  });
});
