import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../build/model/backend.js';
import { loadCheckpoint, saveCheckpoint } from '../build/model/checkpoint.js';
import { hfTensorShapes, LlamaModel } from '../build/model/llama.js';
import { decodeBf16, encodeBf16 } from '../shared/half.js';
import { Rng } from '../shared/random.js';
import { serializeSafetensors } from '../shared/safetensors.js';
import { ByteTokenizer } from '../shared/tokenizer/byte-tokenizer.js';
import { HfJsonTokenizer } from '../shared/tokenizer/hf-tokenizer.js';
import { handWrittenBpeTokenizerJson } from './helpers/bpe-tokenizer-json.js';
import { numpyLlamaForward } from './helpers/llama-numpy.js';
import { useTempDirs } from './helpers/temp-dir.js';
import { maxAbsDiff, tinyConfig } from './helpers/tiny-llama.js';

const tempDir = useTempDirs();

beforeAll(async () => {
  await selectBackend('wasm', { log: () => undefined });
});

/** config.json as transformers writes it for a SmolLM-like model (GQA 3:1, tied, bf16). */
const SMOL_CONFIG = {
  architectures: ['LlamaForCausalLM'],
  attention_bias: false,
  attention_dropout: 0.0,
  bos_token_id: 0,
  eos_token_id: 0,
  hidden_act: 'silu',
  hidden_size: 48,
  initializer_range: 0.02,
  intermediate_size: 64,
  max_position_embeddings: 2048,
  model_type: 'llama',
  num_attention_heads: 3,
  num_hidden_layers: 2,
  num_key_value_heads: 1,
  pretraining_tp: 1,
  rms_norm_eps: 1e-5,
  rope_scaling: null,
  rope_theta: 10000.0,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  transformers_version: '4.40.0.dev0',
  use_cache: true,
  vocab_size: 272,
};

/** Writes a SmolLM-style folder: BF16 weights without lm_head, an inv_freq buffer, a BPE tokenizer. */
async function writeSmolFolder(dir: string, mutate?: (tensors: { name: string; shape: number[]; data: Float32Array }[]) => void): Promise<void> {
  const { config } = await import('../build/model/config.js').then((m) => m.parseHfConfig(SMOL_CONFIG, 'test'));
  const rng = new Rng(3);
  const tensors = [...hfTensorShapes(config)].map(([name, shape]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return { name, shape, data: shape.length === 1 ? rng.normals(n, 0.1).map((x) => 1 + x) : rng.normals(n, 0.3) };
  });
  tensors.push({ name: 'model.layers.0.self_attn.rotary_emb.inv_freq', shape: [8], data: new Float32Array(8).fill(1) });
  mutate?.(tensors);
  await writeFile(join(dir, 'model.safetensors'), serializeSafetensors(tensors.map((t) => ({ ...t, dtype: 'BF16' as const })), { format: 'pt' }));
  await writeFile(join(dir, 'config.json'), JSON.stringify(SMOL_CONFIG, null, 2));
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(handWrittenBpeTokenizerJson()));
}

describe('HF checkpoint folders', () => {
  it('loads a SmolLM-style folder (BF16, tied, GQA, BPE tokenizer.json) and runs it like numpy', async () => {
    const dir = await tempDir();
    await writeSmolFolder(dir);
    const { model, config, tokenizer } = await loadCheckpoint(dir);
    expect(config).toMatchObject({ numKeyValueHeads: 1, headDim: 16, tieWordEmbeddings: true, bosTokenId: 0, eosTokenIds: [0] });
    expect(tokenizer).toBeInstanceOf(HfJsonTokenizer);
    expect([tokenizer.bosId, tokenizer.eosId]).toEqual([0, 0]);

    const ids = [tokenizer.encode('hello world<|endoftext|>hello'), tokenizer.encode('hello hello world')];
    expect(ids.map((r) => r.length)).toEqual([6, 6]);
    const ref = numpyLlamaForward({ config: SMOL_CONFIG, weights: join(dir, 'model.safetensors'), ids });
    const { logits } = model.forward({ ids: Int32Array.from(ids.flat()), batchSize: 2, seqLen: 6 });
    expect(maxAbsDiff(logits.dataSync(), ref.logits)).toBeLessThan(1e-4);
    tf.dispose(logits);
    model.dispose();
  });

  it('saves and reloads bit for bit (F32), keeping config.json keys it does not model', async () => {
    const dir = await tempDir();
    await writeSmolFolder(dir);
    const loaded = await loadCheckpoint(dir);
    const out = join(await tempDir(), 'ckpt');
    await saveCheckpoint(out, loaded.model, { tokenizer: loaded.tokenizer, hfConfig: loaded.hfConfig });
    const again = await loadCheckpoint(out);
    const a = loaded.model.toHfTensors();
    const b = again.model.toHfTensors();
    expect(b.map((t) => t.name)).toEqual(a.map((t) => t.name));
    expect(b.map((t) => t.name)).not.toContain('lm_head.weight');
    a.forEach((t, i) => expect(Buffer.from(b[i]!.data.buffer).equals(Buffer.from(t.data.buffer)), t.name).toBe(true));
    const written = JSON.parse(await readFile(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(written).toMatchObject({ initializer_range: 0.02, use_cache: true, torch_dtype: 'float32', num_key_value_heads: 1, head_dim: 16 });
    expect(JSON.parse(await readFile(join(out, 'tokenizer.json'), 'utf8'))).toEqual(handWrittenBpeTokenizerJson());
    loaded.model.dispose();
    again.model.dispose();
  });

  it('saves BF16 and a byte tokenizer; a fresh untied model round-trips through them', async () => {
    const config = tinyConfig({ vocabSize: 259, tieWordEmbeddings: false, numKeyValueHeads: 2 });
    const model = LlamaModel.random(config, 9);
    const out = join(await tempDir(), 'ckpt');
    await saveCheckpoint(out, model, { tokenizer: new ByteTokenizer(), dtype: 'BF16' });
    const again = await loadCheckpoint(out);
    expect(again.tokenizer).toBeInstanceOf(ByteTokenizer);
    const expected = model.toHfTensors();
    again.model.toHfTensors().forEach((t, i) => expect(maxAbsDiff(t.data, decodeBf16(encodeBf16(expected[i]!.data))), t.name).toBe(0));
    model.dispose();
    again.model.dispose();
  });

  it('loads sharded weights through model.safetensors.index.json', async () => {
    const dir = await tempDir();
    await writeSmolFolder(dir);
    const whole = await loadCheckpoint(dir);
    const tensors = whole.model.toHfTensors();
    const shards = [tensors.slice(0, 7), tensors.slice(7)];
    const weightMap: Record<string, string> = {};
    await Promise.all(
      shards.map(async (part, i) => {
        const file = `model-0000${i + 1}-of-00002.safetensors`;
        for (const t of part) weightMap[t.name] = file;
        await writeFile(join(dir, file), serializeSafetensors(part.map((t) => ({ ...t, dtype: 'F32' as const }))));
      }),
    );
    await rm(join(dir, 'model.safetensors'));
    await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
    const sharded = await loadCheckpoint(dir);
    sharded.model.toHfTensors().forEach((t, i) => expect(maxAbsDiff(t.data, tensors[i]!.data)).toBe(0));
    whole.model.dispose();
    sharded.model.dispose();
  });

  it('refuses folders that do not fit their config.json, saying what is wrong', async () => {
    const cases: [string, (t: { name: string; shape: number[]; data: Float32Array }[]) => void, RegExp][] = [
      ['missing tensor', (t) => t.splice(t.findIndex((x) => x.name === 'model.norm.weight'), 1), /lack "model\.norm\.weight"/],
      ['wrong shape', (t) => Object.assign(t.find((x) => x.name === 'model.layers.1.mlp.up_proj.weight')!, { shape: [48, 64] }), /up_proj\.weight" has shape \[48, 64\]/],
      ['extra tensor', (t) => t.push({ name: 'model.layers.0.self_attn.q_proj.bias', shape: [48], data: new Float32Array(48) }), /unexpected tensor "model\.layers\.0\.self_attn\.q_proj\.bias"/],
    ];
    for (const [, mutate, message] of cases) {
      const dir = await tempDir();
      await writeSmolFolder(dir, mutate);
      await expect(loadCheckpoint(dir)).rejects.toThrow(message);
    }
    const dir = await tempDir();
    await writeSmolFolder(dir);
    await writeFile(join(dir, 'config.json'), JSON.stringify({ ...SMOL_CONFIG, rope_scaling: { rope_type: 'llama3', factor: 8 } }));
    await expect(loadCheckpoint(dir)).rejects.toThrow(/rope_scaling is not supported/);
  });
});
