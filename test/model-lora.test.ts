import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { openPeftAdapter } from '../build/io/peft-adapter.js';
import { writePeftAdapter } from '../build/io/write-peft-adapter.js';
import { ArrowRouter, arrowPrototypes, type ArrowExpert } from '../build/model/arrow-router.js';
import { selectBackend } from '../build/model/backend.js';
import { LlamaModel } from '../build/model/llama.js';
import { Lora, mergeLoras, type LoraModule } from '../build/model/lora.js';
import { moduleKey, PROJECTION_NAMES, projectionShape, type ProjectionName } from '../build/model/projections.js';
import { Rng } from '../shared/random.js';
import { numpyLlamaForward } from './helpers/llama-numpy.js';
import { useTempDirs } from './helpers/temp-dir.js';
import { maxAbsDiff, tinyConfig, tinyWeights, writeTinyWeights } from './helpers/tiny-llama.js';

const tempDir = useTempDirs();

beforeAll(async () => {
  await selectBackend('wasm', { log: () => undefined });
});

const IDS = [
  [1, 5, 9, 13, 2, 39, 0, 7, 21],
  [3, 3, 3, 8, 16, 24, 32, 11, 1],
];
const batch = { ids: Int32Array.from(IDS.flat()), batchSize: 2, seqLen: 9 };

function randomModules(config: ReturnType<typeof tinyConfig>, names: readonly ProjectionName[], r: number, seed: number): LoraModule[] {
  const rng = new Rng(seed);
  const out: LoraModule[] = [];
  for (let l = 0; l < config.numHiddenLayers; l++) {
    for (const n of names) {
      const { dIn, dOut } = projectionShape(config, n);
      out.push({ key: moduleKey(l, n), a: rng.normals(r * dIn, 0.3), b: rng.normals(dOut * r, 0.3) });
    }
  }
  return out;
}

describe('LoRA forward against numpy', () => {
  it('a trained-looking LoRA (B ≠ 0) on every projection, GQA model, via a PEFT folder', async () => {
    const config = tinyConfig({ numKeyValueHeads: 2 });
    const weights = tinyWeights(config, 11);
    const dir = await tempDir();
    const { path, hfConfig } = await writeTinyWeights(dir, config, weights);
    const lora = Lora.fromModules(config, { r: 3, loraAlpha: 6 }, randomModules(config, PROJECTION_NAMES, 3, 5));
    const adapterDir = join(dir, 'adapter');
    await writePeftAdapter(adapterDir, lora.toPeftAdapter('tiny'));

    // Through the PEFT folder and back: what training writes is what eval reads.
    const handle = await openPeftAdapter(adapterDir);
    const loaded = await Lora.fromPeft(handle, config);
    await handle.close();
    expect(loaded.config.targetModules).toEqual([...PROJECTION_NAMES]);
    expect(loaded.modules()).toEqual(lora.modules());

    const model = LlamaModel.fromHfTensors(config, (n) => weights.get(n)!.data);
    const ref = numpyLlamaForward({ config: hfConfig, weights: path, ids: IDS, loras: [{ path: join(adapterDir, 'adapter_model.safetensors'), scale: 2 }] });
    const { logits } = model.forward(batch, { adapter: loaded });
    expect(maxAbsDiff(logits.dataSync(), ref.logits)).toBeLessThan(1e-4);
    // And the adapter changes the output (the check is not vacuous).
    const plain = numpyLlamaForward({ config: hfConfig, weights: path, ids: IDS });
    expect(maxAbsDiff(plain.logits, ref.logits)).toBeGreaterThan(0.1);
    tf.dispose(logits);
    lora.dispose();
    loaded.dispose();
    model.dispose();
  });

  it('fresh init: A ~ U(±1/√dIn), B = 0, so the output is the base model', () => {
    const config = tinyConfig();
    const lora = Lora.init(config, {}, 1);
    expect(lora.config).toMatchObject({ r: 4, loraAlpha: 16, loraDropout: 0.05, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] });
    const mods = lora.modules();
    expect(mods.map((m) => m.key).slice(0, 4)).toEqual(['q_proj', 'k_proj', 'v_proj', 'o_proj'].map((n) => moduleKey(0, n as ProjectionName)));
    const bound = 1 / Math.sqrt(config.hiddenSize);
    for (const m of mods) {
      expect(Math.max(...m.a.map(Math.abs))).toBeLessThanOrEqual(bound);
      expect(Math.max(...m.a.map(Math.abs))).toBeGreaterThan(bound * 0.8);
      expect(m.b.every((x) => x === 0)).toBe(true);
    }
    lora.dispose();
  });

  it('a parameter-space merge (Σ w·A, Σ w·B) equals one LoRA built from the merged matrices', () => {
    const config = tinyConfig();
    const mods = [randomModules(config, ['q_proj', 'v_proj'], 2, 1), randomModules(config, ['q_proj', 'v_proj'], 2, 2)];
    const loras = mods.map((m) => Lora.fromModules(config, { r: 2, loraAlpha: 4 }, m));
    const merged = mergeLoras(loras, [0.25, 0.75]);
    const m0 = merged.modules()[0]!;
    const expectA = mods[0]![0]!.a.map((x, i) => 0.25 * x + 0.75 * mods[1]![0]!.a[i]!);
    expect(maxAbsDiff(m0.a, expectA)).toBeLessThan(1e-6);
    [...loras, merged].forEach((l) => l.dispose());
  });
});

describe('per-token Arrow routing against numpy', () => {
  for (const mix of ['outputs', 'parameters'] as const) {
    it(`mixes ${mix}`, async () => {
      const config = tinyConfig();
      const weights = tinyWeights(config, 21);
      const dir = await tempDir();
      const { path, hfConfig } = await writeTinyWeights(dir, config, weights);
      const targets: ProjectionName[] = ['q_proj', 'v_proj', 'o_proj', 'up_proj', 'down_proj'];
      const ranks = mix === 'outputs' ? [2, 3, 2, 4] : [2, 2, 2, 2];
      const experts: ArrowExpert[] = ranks.map((r, e) => ({ r, scale: (e + 1) / r, modules: randomModules(config, targets, r, 100 + e) }));
      const protos = arrowPrototypes(config, experts);
      // Route a subset: layer 0's q, v, up; layer 1's o and down.
      const routed = new Map([...protos].filter(([k]) => /layers\.0\.(self_attn\.[qv]|mlp\.up)|layers\.1\.(self_attn\.o|mlp\.down)/.test(k)));
      expect(routed.size).toBe(5);
      const loras = await Promise.all(
        experts.map(async (e, i) => {
          const d = join(dir, `e${i}`);
          const shapes = e.modules.map((m) => ({ ...m, r: e.r, ...projectionShape(config, m.key.split('.').pop() as ProjectionName) }));
          await writePeftAdapter(d, { baseModel: 'tiny', r: e.r, loraAlpha: e.scale * e.r, targetModules: targets, modules: shapes });
          return { path: join(d, 'adapter_model.safetensors'), scale: e.scale };
        }),
      );
      const options = { topK: 2, temperature: 0.7, mix };
      const ref = numpyLlamaForward({
        config: hfConfig,
        weights: path,
        ids: IDS,
        loras,
        mode: 'arrow',
        arrow: { prototypes: Object.fromEntries([...routed].map(([k, v]) => [k, chunk(v, v.length / experts.length)])), ...options },
      });
      const model = LlamaModel.fromHfTensors(config, (n) => weights.get(n)!.data);
      const router = new ArrowRouter(config, experts, routed, options);
      const { logits } = model.forward(batch, { adapter: router });
      expect(maxAbsDiff(logits.dataSync(), ref.logits)).toBeLessThan(1e-4);
      tf.dispose(logits);
      router.dispose();
      model.dispose();
    });
  }
});

function chunk(a: Float32Array, size: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < a.length; i += size) out.push(Array.from(a.subarray(i, i + size)));
  return out;
}
