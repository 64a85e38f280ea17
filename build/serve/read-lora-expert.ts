/**
 * A PEFT adapter folder read for serving: checked against the base model as training and eval load
 * adapters (Lora.fromPeft: known projections of this model, A and B of the right shapes, the same
 * modules in every layer, no rsLoRA or rank patterns), then kept as plain A/B arrays
 * (an ArrowExpert), which the engine's RowMix and the Arrow routers stack.
 */
import { resolve } from 'node:path';
import { openPeftAdapter } from '../io/peft-adapter.js';
import type { LlamaConfig } from '../model/config.js';
import { Lora } from '../model/lora.js';
import { mixClassOf, type ServedLora } from './adapter-choice.js';

let instances = 0;

export async function readLoraExpert(name: string, dir: string, modelConfig: LlamaConfig): Promise<ServedLora> {
  const path = resolve(dir);
  const handle = await openPeftAdapter(path);
  try {
    const lora = await Lora.fromPeft(handle, modelConfig);
    try {
      const expert = { r: lora.config.r, scale: lora.scale, modules: lora.modules() };
      return { name, key: `${name}#${++instances}`, path, expert, loraAlpha: lora.config.loraAlpha, mixClass: mixClassOf(expert, lora.config.loraAlpha) };
    } finally {
      lora.dispose();
    }
  } finally {
    await handle.close();
  }
}
