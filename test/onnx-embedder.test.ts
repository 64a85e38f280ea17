/**
 * The ONNX embedder against the TensorFlow.js model (itself checked against numpy in
 * model-llama.test.ts): every routed module's input and its Arrow logits |x · Pᵀ| for fed
 * prototypes, in onnxruntime-node and in onnxruntime-web (wasm, one thread — what the edge runs),
 * for multi-head, grouped and single-KV-head attention, and for graphs that stop before the
 * model's last layer.
 */
import * as tf from '@tensorflow/tfjs';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { llamaConfig, type LlamaConfig } from '../build/model/config.js';
import { selectBackend } from '../build/model/backend.js';
import { LlamaModel } from '../build/model/llama.js';
import { quantizeColumns, tokenTablesPay, writeLlamaEmbedder, type LlamaEmbedderOptions } from '../build/onnx/llama-embedder.js';
import { TensorType } from '../build/onnx/onnx-graph.js';
import { summarizeOnnxModel } from '../build/onnx/onnx-model-info.js';
import { QuiverInputError } from '../shared/errors.js';
import { Rng } from '../shared/random.js';
import type { Manifest } from '../shared/manifest/manifest-codec.js';
import { arrowLogitsName, embedderOutputName, prototypesInputName } from '../shared/router/embedder-outputs.js';
import { OnnxEmbedder } from '../shared/router/onnx-embedder.js';
import { arrowLogits } from '../shared/arrow/arrow-logits.js';
import { TfjsEmbedder } from '../build/model/tfjs-embedder.js';
import { maxAbsDiff, tinyConfig, tinyWeights } from './helpers/tiny-llama.js';

beforeAll(async () => {
  await selectBackend('wasm', { log: () => undefined });
  ortWeb.env.wasm.numThreads = 1;
});

const RUNTIMES = { 'onnxruntime-node': ortNode, 'onnxruntime-web': ortWeb } as unknown as Record<string, typeof ortNode>;

function randomIds(config: LlamaConfig, batch: number, seq: number, seed: number): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: batch * seq }, () => Math.floor(rng.next() * config.vocabSize));
}

/** TF.js captures for `ids` [batch, seq]: per module key, [batch, seq, dIn] flattened. */
function reference(model: LlamaModel, ids: number[], batch: number, modules: readonly string[]): Map<string, Float32Array> {
  const out = model.forward({ ids: Int32Array.from(ids), batchSize: batch, seqLen: ids.length / batch }, { captures: modules });
  const result = new Map(modules.map((k) => [k, out.captures[k]!.dataSync() as Float32Array]));
  tf.dispose([out.logits, ...Object.values(out.captures)]);
  return result;
}

function dInOf(config: LlamaConfig, key: string): number {
  if (key.endsWith('o_proj')) return config.numAttentionHeads * config.headDim;
  return key.endsWith('down_proj') ? config.intermediateSize : config.hiddenSize;
}

/** |x · Pᵀ| by the JavaScript reference (shared/arrow/arrow-logits.ts): x row-major [n, dIn], P [E, dIn] → [n, E]. */
function absProduct(x: Float32Array, p: Float32Array, dIn: number): Float64Array {
  return arrowLogits(x, x.length / dIn, p, p.length / dIn, dIn);
}

const ALL_ATTN = (layers: number[]) => layers.flatMap((l) => ['q_proj', 'k_proj', 'v_proj', 'o_proj'].map((n) => `model.layers.${l}.self_attn.${n}`));

describe('ONNX embedder = TensorFlow.js captures', () => {
  const cases: Array<{ name: string; config: Partial<LlamaConfig>; modules: string[]; layers: number }> = [
    { name: 'multi-head attention, q/k/v/o of every layer', config: {}, modules: ALL_ATTN([0, 1]), layers: 2 },
    {
      name: 'grouped KV heads (4 on 2), MLP modules too, 2 of 3 layers',
      config: { numKeyValueHeads: 2, numHiddenLayers: 3 },
      modules: [...ALL_ATTN([0]), 'model.layers.1.mlp.gate_proj', 'model.layers.1.mlp.up_proj', 'model.layers.1.mlp.down_proj', 'model.layers.1.self_attn.v_proj'],
      layers: 2,
    },
    { name: 'one KV head for 4 query heads, head_dim 16, only layer 1 of 3', config: { numKeyValueHeads: 1, hiddenSize: 48, headDim: 16, numHiddenLayers: 3 }, modules: ALL_ATTN([1]), layers: 2 },
  ];
  for (const c of cases) for (const tokenTables of [true, false]) {
    it(`${c.name}${tokenTables ? ", layer 0's q, k, v from token tables" : ''}`, async () => {
      const config = tinyConfig(c.config);
      const weights = tinyWeights(config, 11);
      const model = LlamaModel.fromHfTensors(config, (n) => weights.get(n)!.data);
      const onnx = writeLlamaEmbedder(config, (n) => weights.get(n)!.data, { modules: c.modules, tokenTables });
      expect(onnx.layers).toBe(c.layers);
      expect(new Set(onnx.outputs)).toEqual(new Set([...c.modules.map((k) => embedderOutputName(k)!), ...c.modules.map(arrowLogitsName)]));
      const E = 5;
      const rng = new Rng(3);
      const protos = new Map(c.modules.map((k) => [k, rng.normals(E * dInOf(config, k), 0.3)]));
      // Two batch shapes through one session: the batch and sequence dimensions are dynamic.
      const shapes = [
        { batch: 2, seq: 11, ids: randomIds(config, 2, 11, 1) },
        { batch: 1, seq: 5, ids: randomIds(config, 1, 5, 2) },
      ];
      for (const [runtime, ort] of Object.entries(RUNTIMES)) {
        const session = await ort.InferenceSession.create(onnx.bytes);
        for (const { batch, seq, ids } of shapes) {
          const want = reference(model, ids, batch, c.modules);
          const feeds: Record<string, ortNode.Tensor> = { input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [batch, seq]) };
          for (const key of c.modules) feeds[prototypesInputName(key)] = new ort.Tensor('float32', protos.get(key)!, [E, dInOf(config, key)]);
          const got = await session.run(feeds);
          for (const key of c.modules) {
            const dIn = dInOf(config, key);
            const t = got[embedderOutputName(key)!]!;
            expect(t.dims, `${runtime} ${key}`).toEqual([batch, seq, dIn]);
            expect(maxAbsDiff(t.data as Float32Array, want.get(key)!), `${runtime} ${key} [${batch}, ${seq}]`).toBeLessThanOrEqual(1e-4);
            const logits = got[arrowLogitsName(key)]!;
            expect(logits.dims).toEqual([batch, seq, E]);
            expect(maxAbsDiff(logits.data as Float32Array, absProduct(want.get(key)!, protos.get(key)!, dIn)), `${runtime} logits ${key}`).toBeLessThanOrEqual(1e-4);
          }
        }
        await session.release();
      }
      model.dispose();
    });
  }
});

describe('the ONNX file', () => {
  const config = tinyConfig({ numKeyValueHeads: 2, numHiddenLayers: 3 });
  const weights = tinyWeights(config, 5);
  const read = (n: string) => weights.get(n)!.data;
  const write = (o: LlamaEmbedderOptions) => writeLlamaEmbedder(config, read, o);

  it('is IR 8, opset 17 of the default domain, with int64 [batch, seq] ids in and float32 [batch, seq, dIn] states out', () => {
    const modules = ['model.layers.0.self_attn.q_proj', 'model.layers.1.self_attn.o_proj'];
    const m = write({ modules, baseModel: 'tiny', producerVersion: '9.9.9' });
    const info = summarizeOnnxModel(m.bytes);
    expect(info.irVersion).toBeLessThanOrEqual(8);
    expect([...info.opsets]).toEqual([['', 17]]);
    expect(info.inputs).toEqual([
      { name: 'input_ids', elemType: TensorType.INT64, dims: ['batch', 'seq'] },
      ...modules.map((k) => ({ name: `prototypes.${k}`, elemType: TensorType.FLOAT, dims: ['adapters', 32] })),
    ]);
    expect(info.outputs.map((o) => [o.name, o.elemType, o.dims])).toEqual([
      ['model.layers.0.input_layernorm.output', TensorType.FLOAT, ['batch', 'seq', 32]],
      ['arrow_logits.model.layers.0.self_attn.q_proj', TensorType.FLOAT, ['batch', 'seq', 'adapters']],
      ['model.layers.1.self_attn.o_proj.input', TensorType.FLOAT, ['batch', 'seq', 32]],
      ['arrow_logits.model.layers.1.self_attn.o_proj', TensorType.FLOAT, ['batch', 'seq', 'adapters']],
    ]);
    expect(info.ops).toEqual(
      ['Abs', 'Add', 'Cast', 'Concat', 'Cos', 'Div', 'Gather', 'Greater', 'MatMul', 'Mul', 'Pow', 'Range', 'ReduceMean', 'Reshape', 'Shape', 'Sigmoid', 'Sin', 'Softmax', 'Sqrt', 'Transpose', 'Unsqueeze', 'Where'],
    );
    expect(summarizeOnnxModel(write({ modules, arrowLogits: 'none' }).bytes).inputs.map((i) => i.name)).toEqual(['input_ids']);
    expect(JSON.parse(info.metadata.get('quiver.embedder')!)).toMatchObject({ baseModel: 'tiny', layers: 2, weightDtype: 'f32' });
  });

  it('holds only the weights the routed modules need', () => {
    const names = (modules: string[]) => summarizeOnnxModel(write({ modules }).bytes).initializers;
    const qOnly = names(['model.layers.1.self_attn.q_proj']);
    expect(qOnly).toContain('model.layers.1.input_layernorm.weight');
    expect(qOnly.filter((n) => n.startsWith('model.layers.1.') && n !== 'model.layers.1.input_layernorm.weight')).toEqual([]);
    expect(qOnly.some((n) => n.startsWith('model.layers.2.'))).toBe(false);
    expect(names(['model.layers.0.self_attn.o_proj'])).not.toContain('model.layers.0.self_attn.o_proj.weight_t');
    expect(names(['model.layers.0.self_attn.q_proj'])).not.toContain('rope.rotate_half_sign'); // no attention, no rotary tables
    expect(() => write({ modules: ['model.layers.3.self_attn.q_proj'] })).toThrow(/layer 3, the model has 3 layers/);
    expect(() => write({ modules: ['model.layers.0.mlp.c_fc'] })).toThrow(/not a Llama projection/);
  });

  it("stores layer 0's input norm and q, k, v as per-token tables where they pay (a byte-level vocabulary), not the weights they replace", () => {
    const modules = ALL_ATTN([0, 1]);
    const names = (tokenTables?: boolean) => summarizeOnnxModel(write({ modules, tokenTables }).bytes).initializers;
    expect(tokenTablesPay(config)).toBe(true);
    const withTables = names();
    for (const n of ['q_proj', 'k_proj', 'v_proj']) {
      expect(withTables).toContain(`model.layers.0.self_attn.${n}.token_table`);
      expect(withTables).not.toContain(`model.layers.0.self_attn.${n}.weight_t`);
      expect(withTables).toContain(`model.layers.1.self_attn.${n}.weight_t`);
    }
    expect(withTables).toContain('model.layers.0.input_layernorm.token_table');
    expect(withTables).not.toContain('model.layers.0.input_layernorm.weight');
    const without = names(false);
    expect(without.filter((n) => n.endsWith('.token_table'))).toEqual([]);
    expect(without).toContain('model.layers.0.self_attn.q_proj.weight_t');
    // The default base (259 byte-level ids, d 128) gets them; SmolLM-135M's 49,152 ids at d 576 do not.
    expect(tokenTablesPay(llamaConfig({ vocabSize: 259, hiddenSize: 128, intermediateSize: 384, numHiddenLayers: 4, numAttentionHeads: 4, maxPositionEmbeddings: 96 }))).toBe(true);
    expect(tokenTablesPay(llamaConfig({ vocabSize: 49152, hiddenSize: 576, intermediateSize: 1536, numHiddenLayers: 30, numAttentionHeads: 9, numKeyValueHeads: 3, maxPositionEmbeddings: 2048 }))).toBe(false);
  });

  it('with f16 weights: about half the bytes, activations within 1% of the f32 model', async () => {
    const modules = ALL_ATTN([0, 1]);
    const f32 = write({ modules });
    const f16 = write({ modules, weightDtype: 'f16' });
    expect(f16.bytes.length).toBeLessThan(0.75 * f32.bytes.length); // norms, rotary constants and the graph itself stay as they are (a large part of this tiny model)
    const model = LlamaModel.fromHfTensors(config, read);
    const ids = randomIds(config, 1, 16, 3);
    const want = reference(model, ids, 1, modules);
    const session = await ortNode.InferenceSession.create(write({ modules, weightDtype: 'f16', arrowLogits: 'none' }).bytes);
    const got = await session.run({ input_ids: new ortNode.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, 16]) });
    for (const key of modules) {
      const ref = want.get(key)!;
      const scale = Math.max(...ref.map(Math.abs));
      expect(maxAbsDiff(got[embedderOutputName(key)!]!.data as Float32Array, ref) / scale, key).toBeLessThan(1e-2);
    }
    await session.release();
    model.dispose();
  });
  it('with int8 weights: the projections a quarter of the bytes, activations within 10% of the f32 model in both runtimes (random weights; 3% on the default library, by the compile check)', async () => {
    const modules = [...ALL_ATTN([0, 1]), 'model.layers.1.mlp.down_proj'];
    // Without layer 0's token tables, every projection is quantized; with them, layer 0's q, k, v are exact gathers.
    const f32 = write({ modules, tokenTables: false });
    const int8 = write({ modules, weightDtype: 'int8', arrowLogits: 'none', tokenTables: false });
    const kinds = summarizeOnnxModel(int8.bytes).initializers;
    expect(kinds).toContain('model.layers.0.self_attn.q_proj.weight_t.int8');
    expect(kinds).toContain('model.layers.1.mlp.gate_proj.weight_t.int8');
    expect(kinds).not.toContain('model.layers.0.self_attn.q_proj.weight_t');
    expect(summarizeOnnxModel(write({ modules, weightDtype: 'int8' }).bytes).initializers).toContain('model.layers.0.self_attn.q_proj.token_table');
    expect(write({ modules, weightDtype: 'int8', tokenTables: false }).bytes.length).toBeLessThan(0.7 * f32.bytes.length); // the embedding, norms, rotary constants and the graph itself stay as they are (a large part of this tiny model)
    const model = LlamaModel.fromHfTensors(config, read);
    const ids = randomIds(config, 1, 16, 3);
    const want = reference(model, ids, 1, modules);
    for (const [runtime, ort] of Object.entries(RUNTIMES)) {
      const session = await ort.InferenceSession.create(int8.bytes);
      const got = await session.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, 16]) });
      for (const key of modules) {
        const ref = want.get(key)!;
        const scale = Math.max(...ref.map(Math.abs));
        const err = maxAbsDiff(got[embedderOutputName(key)!]!.data as Float32Array, ref) / scale;
        expect(err, `${runtime} ${key}`).toBeLessThan(1e-1);
        // Layer 0's q, k and v read the normed embedding, before any quantized product.
        if (!/^model\.layers\.0\.self_attn\.[qkv]_proj$/.test(key)) expect(err, `${runtime} ${key}: quantized, not exact`).toBeGreaterThan(1e-5);
      }
      await session.release();
    }
    model.dispose();
  });
});

describe('quantizeColumns (int8 weights of the embedder)', () => {
  it('is symmetric per column: scale = max |w| / 127, |q · scale − w| ≤ scale / 2, an all-zero column gets scale 1', () => {
    const dIn = 7;
    const dOut = 5;
    const w = new Rng(4).normals(dIn * dOut, 1);
    for (let i = 0; i < dIn; i++) w[i * dOut + 3] = 0; // column 3: all zero
    w[2 * dOut + 1] = -9; // column 1's largest magnitude is negative
    const { q, scale } = quantizeColumns(w, dIn, dOut);
    for (let j = 0; j < dOut; j++) {
      let max = 0;
      for (let i = 0; i < dIn; i++) max = Math.max(max, Math.abs(w[i * dOut + j]!));
      expect(scale[j]).toBeCloseTo(j === 3 ? 1 : max / 127, 6);
      for (let i = 0; i < dIn; i++) expect(Math.abs(q[i * dOut + j]! * scale[j]! - w[i * dOut + j]!)).toBeLessThanOrEqual(scale[j]! / 2 + 1e-6);
    }
    expect(q[2 * dOut + 1]).toBe(-127);
    expect(() => quantizeColumns(w, dIn, dOut + 1)).toThrow(/expected 7 × 6/);
  });
});

describe('OnnxEmbedder (the shared wrapper the edge uses)', () => {
  const config = tinyConfig();
  const weights = tinyWeights(config, 9);
  const keys = ALL_ATTN([0]);
  const E = 4;
  const rng = new Rng(8);
  const manifest = {
    metadata: { modules: keys.map((key) => ({ key, dIn: 32 })), adapters: Array.from({ length: E }, (_, i) => ({ id: `a${i}` })) },
    prototypes: new Map(keys.map((k) => [k, rng.normals(E * 32, 0.3)])),
    centres: new Map(),
  } as unknown as Manifest;
  const onnx = writeLlamaEmbedder(config, (n) => weights.get(n)!.data, { modules: keys });
  const webTensors = { int64: (d: BigInt64Array, dims: number[]) => new ortWeb.Tensor('int64', d, dims), float32: (d: Float32Array, dims: number[]) => new ortWeb.Tensor('float32', d, dims) };
  const nodeTensors = { int64: (d: BigInt64Array, dims: number[]) => new ortNode.Tensor('int64', d, dims), float32: (d: Float32Array, dims: number[]) => new ortNode.Tensor('float32', d, dims) };

  it('returns Arrow logits [T, adapters] per module key from onnxruntime-web, equal to |x · Pᵀ| of the TF.js captures', async () => {
    const session = await ortWeb.InferenceSession.create(onnx.bytes);
    const embedder = new OnnxEmbedder(session, webTensors, manifest);
    const ids = randomIds(config, 1, 7, 4);
    const got = await embedder.run(ids);
    expect([...got.keys()]).toEqual(keys);
    const model = LlamaModel.fromHfTensors(config, (n) => weights.get(n)!.data);
    const want = reference(model, ids, 1, keys);
    for (const k of keys) expect(maxAbsDiff(got.get(k)!, absProduct(want.get(k)!, manifest.prototypes.get(k)!, 32)), k).toBeLessThanOrEqual(1e-4);
    model.dispose();
    await session.release();
  });

  it('TfjsEmbedder (eval\'s, compile\'s reference) gives the same logits, for prompts batched in one tick as for each alone', async () => {
    const session = await ortNode.InferenceSession.create(onnx.bytes);
    const onnxEmbedder = new OnnxEmbedder(session, nodeTensors, manifest);
    const model = LlamaModel.fromHfTensors(config, (n) => weights.get(n)!.data);
    const tfjs = new TfjsEmbedder(model, manifest, { padId: 0, maxBatch: 2 });
    try {
      const prompts = [randomIds(config, 1, 7, 4), randomIds(config, 1, 3, 5), randomIds(config, 1, 7, 4), randomIds(config, 1, 12, 6), randomIds(config, 1, 1, 7)];
      const batched = await Promise.all(prompts.map((p) => tfjs.run(p))); // one flush: 4 distinct prompts in chunks of 2
      for (const [i, ids] of prompts.entries()) {
        const alone = await tfjs.run(ids);
        const fromOnnx = await onnxEmbedder.run(ids);
        const x = reference(model, ids, 1, keys);
        for (const k of keys) {
          expect(batched[i]!.get(k)!.length).toBe(ids.length * E);
          expect(maxAbsDiff(batched[i]!.get(k)!, alone.get(k)!), `${k} batched vs alone`).toBeLessThanOrEqual(1e-5);
          expect(maxAbsDiff(alone.get(k)!, absProduct(x.get(k)!, manifest.prototypes.get(k)!, 32)), `${k} TF.js vs JS`).toBeLessThanOrEqual(1e-4);
          expect(maxAbsDiff(alone.get(k)!, fromOnnx.get(k)!), `${k} TF.js vs ONNX`).toBeLessThanOrEqual(1e-4);
        }
      }
      await expect(tfjs.run([])).rejects.toThrow(/at least one token/);
      expect(() => new TfjsEmbedder(model, { ...manifest, metadata: { ...manifest.metadata, modules: [{ key: 'model.layers.0.self_attn.q_proj', dIn: 16 }] } } as unknown as Manifest, { padId: 0 })).toThrow(/d_in 16 in the manifest, 32 in the model/);
    } finally {
      tfjs.dispose();
      model.dispose();
      await session.release();
    }
  });

  it('centred routing: |(x − c) · Pᵀ| with the manifest\'s centres fed, the same in onnxruntime-web, TF.js and JavaScript', async () => {
    // Centres on q and o only: a module without one routes on its raw input, as before.
    const centredKeys = [keys[0]!, keys[3]!];
    const centred = { ...manifest, centres: new Map(centredKeys.map((k) => [k, rng.normals(32, 0.5)])) } as unknown as Manifest;
    const onnxCentred = writeLlamaEmbedder(config, (n) => weights.get(n)!.data, { modules: keys, centred: centredKeys });
    const session = await ortWeb.InferenceSession.create(onnxCentred.bytes);
    const model = LlamaModel.fromHfTensors(config, (n) => weights.get(n)!.data);
    const tfjs = new TfjsEmbedder(model, centred, { padId: 0 });
    try {
      const embedder = new OnnxEmbedder(session, webTensors, centred);
      const ids = randomIds(config, 1, 9, 3);
      const [fromOnnx, fromTfjs] = await Promise.all([embedder.run(ids), tfjs.run(ids)]);
      const x = reference(model, ids, 1, keys);
      for (const k of keys) {
        const c = centred.centres.get(k);
        const want = arrowLogits(x.get(k)!, ids.length, centred.prototypes.get(k)!, E, 32, c);
        // The centre is what the JavaScript reference subtracts: the same as its raw logits of x − c.
        if (c) expect(maxAbsDiff(want, absProduct(x.get(k)!.map((v, i) => v - c[i % 32]!), centred.prototypes.get(k)!, 32))).toBeLessThanOrEqual(1e-5);
        else expect(maxAbsDiff(want, absProduct(x.get(k)!, centred.prototypes.get(k)!, 32))).toBe(0);
        expect(maxAbsDiff(fromOnnx.get(k)!, want), `${k} ONNX vs JS`).toBeLessThanOrEqual(1e-4);
        expect(maxAbsDiff(fromTfjs.get(k)!, want), `${k} TF.js vs JS`).toBeLessThanOrEqual(1e-4);
      }
      // An embedder and a manifest that disagree on centring are refused, both ways.
      const plain = await ortNode.InferenceSession.create(onnx.bytes);
      expect(() => new OnnxEmbedder(plain, nodeTensors, centred, 'plain.onnx')).toThrow(/plain.onnx: the embedder lacks centres.model.layers.0.self_attn.q_proj/);
      await plain.release();
      const centredSession = await ortNode.InferenceSession.create(onnxCentred.bytes);
      expect(() => new OnnxEmbedder(centredSession, nodeTensors, manifest, 'centred.onnx')).toThrow(/centred.onnx: the embedder takes inputs the manifest cannot feed: centres.model.layers.0.self_attn.q_proj/);
      await centredSession.release();
    } finally {
      tfjs.dispose();
      model.dispose();
      await session.release();
    }
  });

  it('refuses a session that lacks an input or output the manifest routes on', async () => {
    const session = await ortNode.InferenceSession.create(onnx.bytes);
    const other = { ...manifest, metadata: { ...manifest.metadata, modules: [{ key: 'model.layers.1.self_attn.q_proj', dIn: 32 }] } } as unknown as Manifest;
    expect(() => new OnnxEmbedder(session, nodeTensors, other, 'x.onnx')).toThrow(QuiverInputError);
    expect(() => new OnnxEmbedder(session, nodeTensors, other, 'x.onnx')).toThrow(/x.onnx: the embedder lacks prototypes.model.layers.1.self_attn.q_proj, arrow_logits.model.layers.1.self_attn.q_proj/);
    await session.release();
    const hiddenOnly = await ortNode.InferenceSession.create(writeLlamaEmbedder(config, (n) => weights.get(n)!.data, { modules: keys, arrowLogits: 'none' }).bytes);
    expect(() => new OnnxEmbedder(hiddenOnly, nodeTensors, manifest)).toThrow(/lacks prototypes.model.layers.0.self_attn.q_proj/);
    await hiddenOnly.release();
  });
});
