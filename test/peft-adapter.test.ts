import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSameBase, openPeftAdapter } from '../build/io/peft-adapter.js';
import { writePeftAdapter } from '../build/io/write-peft-adapter.js';
import { arrowPrototype } from '../shared/arrow/prototype.js';
import { parseProjectionKey } from '../build/model/projections.js';
import { parseLoraTensorName, parseModuleKey } from '../shared/peft/module-names.js';
import { moduleInputSite } from '../shared/router/embedder-outputs.js';
import { serializeSafetensors } from '../shared/safetensors.js';
import { FAMILY_MODULES, writeNumpyAdapter } from './helpers/peft-python.js';
import { runPython } from './helpers/python.js';
import { useTempDirs } from './helpers/temp-dir.js';

const tempDir = useTempDirs();

describe('PEFT module names', () => {
  it.each([
    ['base_model.model.model.layers.12.self_attn.q_proj.lora_A.weight', 12, 'self_attn.q_proj', 'lora_A'],
    ['base_model.model.model.layers.0.mlp.down_proj.lora_B.weight', 0, 'mlp.down_proj', 'lora_B'],
    ['base_model.model.model.layers.3.self_attn.qkv_proj.lora_A.weight', 3, 'self_attn.qkv_proj', 'lora_A'],
    ['base_model.model.model.layers.3.mlp.gate_up_proj.lora_B.weight', 3, 'mlp.gate_up_proj', 'lora_B'],
    ['base_model.model.model.layers.31.self_attn.dense.lora_A.weight', 31, 'self_attn.dense', 'lora_A'],
    ['base_model.model.model.layers.1.mlp.fc2.lora_A.weight', 1, 'mlp.fc2', 'lora_A'],
    ['base_model.model.transformer.h.5.attn.c_attn.lora_A.weight', 5, 'attn.c_attn', 'lora_A'],
    ['base_model.model.transformer.h.5.mlp.c_proj.lora_B.weight', 5, 'mlp.c_proj', 'lora_B'],
  ])('%s', (name, layer, module, part) => {
    expect(parseLoraTensorName(name)).toMatchObject({ layer, module, part });
  });

  it('explains what it refuses', () => {
    expect(parseLoraTensorName('model.layers.0.self_attn.q_proj.weight')).toEqual({ error: expect.stringMatching(/not a LoRA weight/) });
    expect(parseLoraTensorName('base_model.model.model.layers.0.self_attn.rotary.lora_A.weight')).toEqual({
      error: expect.stringMatching(/module "model.layers.0.self_attn.rotary" is not one Quiver knows/),
    });
    expect(parseLoraTensorName('base_model.model.model.embed_tokens.lora_embedding_A')).toEqual({ error: expect.stringMatching(/embedding or DoRA/) });
  });
});

describe('module keys: one parser, read by family', () => {
  it('PEFT names, Llama projections and embedder outputs agree on every key', () => {
    const keys = [
      'model.layers.0.self_attn.q_proj', 'model.layers.11.mlp.down_proj', 'model.layers.2.mlp.gate_proj', 'model.layers.3.self_attn.o_proj',
      'model.layers.3.self_attn.qkv_proj', 'model.layers.1.self_attn.dense', 'transformer.h.4.mlp.c_proj',
      'model.layers.01.self_attn.q_proj', 'model.layers.0.mlp.q_proj', 'model.layers.0.self_attn.rotary', 'layers.0.self_attn.q_proj',
    ];
    const table = keys.map((k) => [k, parseModuleKey(k)?.layer ?? null, parseProjectionKey(k)?.name ?? null, moduleInputSite(k)?.site ?? null]);
    expect(table).toEqual([
      ['model.layers.0.self_attn.q_proj', 0, 'q_proj', 'attnIn'],
      ['model.layers.11.mlp.down_proj', 11, 'down_proj', 'mlpAct'],
      ['model.layers.2.mlp.gate_proj', 2, 'gate_proj', 'mlpIn'],
      ['model.layers.3.self_attn.o_proj', 3, 'o_proj', 'attnOut'],
      ['model.layers.3.self_attn.qkv_proj', 3, null, null], // Phi-3: a PEFT module, not a Llama projection
      ['model.layers.1.self_attn.dense', 1, null, null], // Phi-2
      ['transformer.h.4.mlp.c_proj', 4, null, null], // GPT-2
      ['model.layers.01.self_attn.q_proj', null, null, null], // one spelling per key
      ['model.layers.0.mlp.q_proj', null, null, null],
      ['model.layers.0.self_attn.rotary', null, null, null],
      ['layers.0.self_attn.q_proj', null, null, null],
    ]);
  });
});

describe('openPeftAdapter on folders written by numpy', () => {
  for (const family of Object.keys(FAMILY_MODULES)) {
    for (const dtype of ['F32', 'F16', 'BF16'] as const) {
      it(`${family} ${dtype}: modules, values and prototypes match numpy`, async () => {
        const dir = join(await tempDir(), `${family}-adapter`);
        const expected = writeNumpyAdapter({ dir, family, dtype, seed: 3 });
        const h = await openPeftAdapter(dir);
        try {
          expect(h.id).toBe(`${family}-adapter`);
          expect(h.config.fan_in_fan_out).toBe(family === 'gpt2');
          expect(h.baseModel).toBe(`test/${family}-tiny`);
          expect(h.modules.map((m) => m.key).sort()).toEqual(Object.keys(expected).sort());
          // canonical order: layer, then module name
          const order = h.modules.map((m) => `${m.layer}:${m.module}`);
          expect(order).toEqual([...order].sort((x, y) => Number(x.split(':')[0]) - Number(y.split(':')[0]) || (x < y ? -1 : 1)));
          for (const m of h.modules) {
            const e = expected[m.key]!;
            expect([m.layer, m.module, m.r, m.dIn, m.dOut]).toEqual([e.layer, e.module, e.r, e.dIn, e.dOut]);
            const { a, b } = await h.readModule(m.key);
            expect(Array.from(a)).toEqual(e.a.map((x) => Math.fround(x)));
            expect(Array.from(b)).toEqual(e.b.map((x) => Math.fround(x)));
            const p = arrowPrototype(a, b, m.r, m.dIn, m.dOut);
            p.vector.forEach((x, i) => expect(x).toBeCloseTo(e.v[i]!, 5));
            expect(p.sigma / e.sigma).toBeCloseTo(1, 6);
          }
        } finally {
          await h.close();
        }
      });
    }
  }
});

describe('openPeftAdapter refuses what is not a LoRA adapter folder', () => {
  async function adapterWith(files: Record<string, string | Uint8Array>): Promise<string> {
    const dir = join(await tempDir(), 'bad');
    await mkdir(dir);
    for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
    return dir;
  }
  const goodConfig = JSON.stringify({ peft_type: 'LORA', r: 2, lora_alpha: 4, base_model_name_or_path: 'x/y', target_modules: ['q_proj'] });
  const t = (name: string, shape: number[]) => ({ name, dtype: 'F32' as const, shape, data: new Float32Array(shape.reduce((p, x) => p * x, 1)).fill(1) });
  const A = 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight';
  const B = 'base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight';

  it.each<[string, Record<string, string | Uint8Array>, RegExp]>([
    ['no config', {}, /missing adapter_config.json/],
    ['a pickle only', { 'adapter_config.json': goodConfig, 'adapter_model.bin': 'x' }, /adapter_model.bin.*safe_serialization=True/],
    ['bad JSON', { 'adapter_config.json': '{"r": 2,' }, /adapter_config.json: not valid JSON/],
    ['not LoRA', { 'adapter_config.json': goodConfig.replace('LORA', 'IA3') }, /peft_type: peft_type must be "LORA"/],
    ['DoRA', { 'adapter_config.json': goodConfig.replace('"r":2', '"r":2,"use_dora":true') }, /use_dora: DoRA adapters/],
    ['no base model', { 'adapter_config.json': goodConfig.replace('x/y', '') }, /base_model_name_or_path/],
    ['A without B', { 'adapter_config.json': goodConfig, 'adapter_model.safetensors': serializeSafetensors([t(A, [2, 8])]) }, /has lora_A but no lora_B/],
    ['ranks differ', { 'adapter_config.json': goodConfig, 'adapter_model.safetensors': serializeSafetensors([t(A, [2, 8]), t(B, [8, 3])]) }, /ranks differ/],
    ['unknown module', {
      'adapter_config.json': goodConfig,
      'adapter_model.safetensors': serializeSafetensors([t('base_model.model.model.layers.0.self_attn.rotary.lora_A.weight', [2, 8])]),
    }, /is not one Quiver knows/],
    ['not safetensors', { 'adapter_config.json': goodConfig, 'adapter_model.safetensors': 'hello' }, /adapter_model.safetensors/],
  ])('%s', async (_label, files, message) => {
    const dir = await adapterWith(files);
    await expect(openPeftAdapter(dir)).rejects.toThrow(message);
  });

  it('a missing folder and a file are named', async () => {
    await expect(openPeftAdapter('/nonexistent/adapter')).rejects.toThrow(/\/nonexistent\/adapter: no such adapter folder/);
    const dir = await tempDir();
    await writeFile(join(dir, 'f'), 'x');
    await expect(openPeftAdapter(join(dir, 'f'))).rejects.toThrow(/not a folder/);
  });
});

describe('writePeftAdapter', () => {
  it('writes the config keys and tensor names PEFT, vLLM and LoRAX load; numpy reads it back', async () => {
    const dir = join(await tempDir(), 'task-a');
    const a = Float32Array.from({ length: 4 * 16 }, (_, i) => Math.sin(i));
    const b = Float32Array.from({ length: 24 * 4 }, (_, i) => Math.cos(i) / 3);
    await writePeftAdapter(dir, {
      baseModel: 'quiver/tiny',
      r: 4,
      loraAlpha: 16,
      loraDropout: 0.05,
      targetModules: ['q_proj'],
      modules: [{ key: 'model.layers.0.self_attn.q_proj', a, b, r: 4, dIn: 16, dOut: 24 }],
    });
    const config = JSON.parse(await readFile(join(dir, 'adapter_config.json'), 'utf8'));
    expect(config).toMatchObject({
      peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 4, lora_alpha: 16, target_modules: ['q_proj'],
      base_model_name_or_path: 'quiver/tiny', bias: 'none', use_rslora: false, use_dora: false,
      fan_in_fan_out: false, lora_dropout: 0.05, modules_to_save: null,
    });
    const out = runPython(
      String.raw`
import json, struct, sys
import numpy as np
raw = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
h = json.loads(raw[8:8 + n]); data = raw[8 + n:]
res = {}
for k, v in h.items():
    if k == "__metadata__": continue
    b0, b1 = v["data_offsets"]
    res[k] = {"shape": v["shape"], "dtype": v["dtype"], "values": np.frombuffer(data[b0:b1], dtype="<f4").tolist()}
print(json.dumps(res))`,
      '',
      [join(dir, 'adapter_model.safetensors')],
    );
    const got = JSON.parse(new TextDecoder().decode(out));
    expect(got['base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight']).toEqual({ shape: [4, 16], dtype: 'F32', values: Array.from(a) });
    expect(got['base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight']).toEqual({ shape: [24, 4], dtype: 'F32', values: Array.from(b) });
    const h = await openPeftAdapter(dir);
    expect(h.modules).toEqual([{ key: 'model.layers.0.self_attn.q_proj', layer: 0, module: 'self_attn.q_proj', r: 4, dIn: 16, dOut: 24 }]);
    await h.close();
  });
});

describe('checkSameBase', () => {
  const mod = (key: string, dIn: number, dOut: number) => ({ key, layer: 0, module: key.split('.').slice(-2).join('.'), r: 4, dIn, dOut });
  const ad = (id: string, baseModel: string, modules: ReturnType<typeof mod>[]) => ({ id, dir: `/x/${id}`, baseModel, modules });
  const q = mod('model.layers.0.self_attn.q_proj', 8, 8);
  const v = mod('model.layers.0.self_attn.v_proj', 8, 4);

  it('accepts one base and names the adapter that differs', () => {
    expect(() => checkSameBase([ad('a', 'm', [q, v]), ad('b', 'm', [q, v])])).not.toThrow();
    expect(() => checkSameBase([ad('a', 'm', [q]), ad('b', 'other', [q])])).toThrow(/adapter "b".*base model "other" differs from "m"/);
    expect(() => checkSameBase([ad('a', 'm', [q, v]), ad('b', 'm', [q])])).toThrow(/adapter "b".*lacks module model.layers.0.self_attn.v_proj/);
    expect(() => checkSameBase([ad('a', 'm', [q]), ad('b', 'm', [q, v])])).toThrow(/adapter "b".*has module model.layers.0.self_attn.v_proj/);
    expect(() => checkSameBase([ad('a', 'm', [q]), ad('b', 'm', [mod('model.layers.0.self_attn.q_proj', 8, 16)])])).toThrow(/adapter "b".*16×8/);
    expect(() => checkSameBase([ad('a', 'm', [q]), ad('a', 'm', [q])])).toThrow(/two adapters are named "a"/);
  });
});
