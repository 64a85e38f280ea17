/**
 * Writing a PEFT LoRA adapter folder that PEFT, vLLM and LoRAX load (docs/interfaces.md, "PEFT LoRA adapter folder"): the config
 * keys they read and `base_model.model.<module>.lora_{A,B}.weight` tensors. The folder appears
 * whole or not at all (built in a temp folder, then renamed).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { peftAdapterConfig } from '../../shared/peft/adapter-config.js';
import { loraTensorName } from '../../shared/peft/module-names.js';
import { serializeSafetensors, type WritableTensor } from '../../shared/safetensors.js';
import { replaceDirAtomic } from './atomic-write.js';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE } from './peft-adapter.js';

export interface AdapterModuleToWrite {
  key: string;
  a: Float32Array; // [r, dIn]
  b: Float32Array; // [dOut, r]
  r: number;
  dIn: number;
  dOut: number;
}

export interface WritePeftAdapterOptions {
  baseModel: string;
  r: number;
  loraAlpha: number;
  targetModules: string[];
  modules: AdapterModuleToWrite[];
  loraDropout?: number;
  modelType?: string;
  dtype?: 'F32' | 'F16' | 'BF16';
  /** More files to write into the folder (name → content), in the same atomic step. */
  extraFiles?: Record<string, string>;
}

export async function writePeftAdapter(dir: string, opts: WritePeftAdapterOptions): Promise<void> {
  const dtype = opts.dtype ?? 'F32';
  const tensors: WritableTensor[] = [];
  for (const m of opts.modules) {
    if (m.a.length !== m.r * m.dIn) throw new RangeError(`${m.key}: lora_A has ${m.a.length} values, expected ${m.r}×${m.dIn}`);
    if (m.b.length !== m.dOut * m.r) throw new RangeError(`${m.key}: lora_B has ${m.b.length} values, expected ${m.dOut}×${m.r}`);
    tensors.push({ name: loraTensorName(m.key, 'lora_A'), dtype, shape: [m.r, m.dIn], data: m.a });
    tensors.push({ name: loraTensorName(m.key, 'lora_B'), dtype, shape: [m.dOut, m.r], data: m.b });
  }
  const config = peftAdapterConfig(opts);
  const weights = serializeSafetensors(tensors, { format: 'pt' });
  await replaceDirAtomic(dir, async (tmp) => {
    await writeFile(join(tmp, ADAPTER_CONFIG_FILE), JSON.stringify(config, null, 2) + '\n');
    await writeFile(join(tmp, ADAPTER_WEIGHTS_FILE), weights);
    for (const [name, content] of Object.entries(opts.extraFiles ?? {})) {
      if (name.includes('/') || name === ADAPTER_CONFIG_FILE || name === ADAPTER_WEIGHTS_FILE) throw new RangeError(`extra file name "${name}" is not allowed`);
      await writeFile(join(tmp, name), content);
    }
  });
}
