import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../build/model/backend.js';
import { LlamaModel } from '../build/model/llama.js';
import { ropeTables, rotateHalfMatrix } from '../build/model/rope.js';
import { numpyLlamaForward } from './helpers/llama-numpy.js';
import { useTempDirs } from './helpers/temp-dir.js';
import { maxAbsDiff, tinyConfig, tinyWeights, writeTinyWeights } from './helpers/tiny-llama.js';

const tempDir = useTempDirs();

beforeAll(async () => {
  await selectBackend('wasm', { log: () => undefined });
});

const IDS = [
  [1, 5, 9, 13, 2, 39, 0, 7, 21, 30, 4],
  [3, 3, 3, 8, 16, 24, 32, 11, 1, 2, 38],
];

function batchOf(ids: number[][]) {
  return { ids: Int32Array.from(ids.flat()), batchSize: ids.length, seqLen: ids[0]!.length };
}

describe('Llama forward against numpy', () => {
  const cases = [
    { name: 'multi-head attention, tied embeddings', overrides: {} },
    { name: 'grouped KV heads (4 query heads on 2), untied lm_head', overrides: { numKeyValueHeads: 2, tieWordEmbeddings: false } },
    { name: 'one KV head for 4 query heads, head_dim 16', overrides: { numKeyValueHeads: 1, hiddenSize: 48, headDim: 16 } },
  ];
  for (const { name, overrides } of cases) {
    it(name, async () => {
      const config = tinyConfig(overrides);
      const weights = tinyWeights(config, 7);
      const { path, hfConfig } = await writeTinyWeights(await tempDir(), config, weights);
      const captures = ['model.layers.0.self_attn.q_proj', 'model.layers.1.self_attn.o_proj', 'model.layers.1.mlp.down_proj', 'model.layers.0.mlp.up_proj'];
      const ref = numpyLlamaForward({ config: hfConfig, weights: path, ids: IDS, captures });

      const model = LlamaModel.fromHfTensors(config, (n) => weights.get(n)!.data);
      const out = model.forward(batchOf(IDS), { captures });
      expect(out.logits.shape).toEqual([2, IDS[0]!.length, config.vocabSize]);
      expect(maxAbsDiff(out.logits.dataSync(), ref.logits)).toBeLessThan(1e-4);
      captures.forEach((key, i) => {
        expect(maxAbsDiff(out.captures[key]!.dataSync(), ref.captures[i]!), key).toBeLessThan(1e-4);
      });
      tf.dispose([out.logits, ...Object.values(out.captures)]);
      // Rotary tables and the mask are cached per length by the first call; nothing else stays.
      const before = tf.memory().numTensors;
      tf.dispose(Object.values(model.forward(batchOf(IDS), { captures })));
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
    });
  }

  it('round-trips weights through the fused compute layout bit for bit', () => {
    const config = tinyConfig({ numKeyValueHeads: 2, tieWordEmbeddings: false });
    const weights = tinyWeights(config, 3);
    const model = LlamaModel.fromHfTensors(config, (n) => weights.get(n)!.data);
    const back = model.toHfTensors();
    expect(back.map((t) => t.name)).toEqual([...weights.keys()]);
    for (const t of back) {
      expect(t.shape).toEqual(weights.get(t.name)!.shape);
      expect(Buffer.from(t.data.buffer).equals(Buffer.from(weights.get(t.name)!.data.buffer))).toBe(true);
    }
    model.dispose();
  });
});

describe('rotary embeddings', () => {
  it('tables match the closed form: pair (i, i + d/2) turns by p / θ^(2i/d)', () => {
    const hd = 8;
    const theta = 10000;
    const { cos, sin } = ropeTables(50, hd, theta);
    for (const p of [0, 1, 7, 49]) {
      for (let i = 0; i < hd / 2; i++) {
        const angle = p / theta ** ((2 * i) / hd);
        expect(cos[p * hd + i]).toBeCloseTo(Math.cos(angle), 5);
        expect(cos[p * hd + i + hd / 2]).toBeCloseTo(Math.cos(angle), 5);
        expect(sin[p * hd + i]).toBeCloseTo(Math.sin(angle), 5);
      }
    }
  });

  it('x·cos + (x·R)·sin rotates each pair as a 2-D rotation', () => {
    const hd = 6;
    const r = rotateHalfMatrix(hd);
    const x = [0.3, -1.2, 0.7, 2.0, 0.1, -0.5];
    const { cos, sin } = ropeTables(4, hd, 10);
    const p = 3;
    const xr = Array.from({ length: hd }, (_, j) => x.reduce((s, xi, i) => s + xi * r[i * hd + j]!, 0));
    const y = x.map((xi, j) => xi * cos[p * hd + j]! + xr[j]! * sin[p * hd + j]!);
    for (let i = 0; i < hd / 2; i++) {
      const a = p / 10 ** ((2 * i) / hd);
      const [u, v] = [x[i]!, x[i + hd / 2]!];
      expect(y[i]).toBeCloseTo(u * Math.cos(a) - v * Math.sin(a), 5);
      expect(y[i + hd / 2]).toBeCloseTo(v * Math.cos(a) + u * Math.sin(a), 5);
    }
  });
});
