/**
 * A trained library loaded for serving: the base checkpoint (library.json's `base`), its tokenizer
 * and chat template, every private and MBC adapter under its library id, and the paper's form —
 * per-token Arrow over the private adapters and over the MBC adapters, with eval's settings
 * (EVAL_DEFAULTS: top-k and temperature of DEFAULT_ROUTING, parameter mix, centred on the library's training prompts: the
 * `private-arrow` and `mbc-arrow` systems).
 */
import { resolve } from 'node:path';
import type { Tokenizer } from '../../shared/tokenizer/tokenizer.js';
import { libraryInputCentres, libraryTrainingPrompts } from '../arrow/input-centres.js';
import { scaledArrowPrototypes } from '../arrow/logit-scales.js';
import { EVAL_DEFAULTS } from '../commands/eval.js';
import { ArrowRouter } from '../model/arrow-router.js';
import { loadCheckpoint } from '../model/checkpoint.js';
import type { LlamaModel } from '../model/llama.js';
import { readLibraryIndex } from '../io/library-index.js';
import type { ServedLora, ServedRouter } from './adapter-choice.js';
import { readLoraExpert } from './read-lora-expert.js';
import { ServedModels } from './served-models.js';

/** The per-token Arrow routers' model names. */
export const ARROW_MODEL_NAMES = { private: 'quiver-arrow-private', mbc: 'quiver-arrow-mbc' } as const;

export interface ServeLibrary {
  model: LlamaModel;
  tokenizer: Tokenizer;
  /** tokenizer_config.json's `chat_template`, or null. */
  chatTemplate: string | null;
  models: ServedModels;
  dispose(): void;
}

/** Per-token Arrow over `loras`, centred and with scaled prototypes as compile makes them (logit-scales.ts), on the library's training prompts. */
function arrowRouter(name: string, root: string, loras: readonly ServedLora[], model: LlamaModel, centres: ReadonlyMap<string, Float32Array>, prompts: number[][][], padId: number): ServedRouter {
  const experts = loras.map((l) => l.expert);
  const { prototypes } = scaledArrowPrototypes(model, experts, prompts, centres, padId);
  const delta = new ArrowRouter(model.config, experts, prototypes, { topK: EVAL_DEFAULTS.topK, temperature: EVAL_DEFAULTS.temperature, mix: 'parameters', centres });
  return { name, root, delta };
}

export async function loadServeLibrary(libraryArg: string): Promise<ServeLibrary> {
  const libraryDir = resolve(libraryArg);
  const index = await readLibraryIndex(libraryDir);
  const basePath = resolve(libraryDir, index.base);
  const { model, tokenizer, tokenizerConfig } = await loadCheckpoint(basePath);
  try {
    const privates: ServedLora[] = [];
    for (const t of index.tasks) privates.push(await readLoraExpert(t.name, resolve(libraryDir, t.adapter), model.config));
    const mbc: ServedLora[] = [];
    for (const c of index.clusters) mbc.push(await readLoraExpert(c.id, resolve(libraryDir, c.adapter), model.config));
    const routers: ServedRouter[] = [];
    const routed = privates[0]?.expert.modules.map((m) => m.key) ?? mbc[0]?.expert.modules.map((m) => m.key) ?? [];
    const centres = routed.length === 0 ? new Map<string, Float32Array>() : await libraryInputCentres(libraryDir, index, model, tokenizer, routed);
    const prompts = routed.length === 0 ? [] : await libraryTrainingPrompts(libraryDir, index, tokenizer);
    const padId = tokenizer.padId ?? 0;
    if (privates.length > 0) routers.push(arrowRouter(ARROW_MODEL_NAMES.private, libraryDir, privates, model, centres, prompts, padId));
    if (mbc.length > 0) routers.push(arrowRouter(ARROW_MODEL_NAMES.mbc, libraryDir, mbc, model, centres, prompts, padId));
    const models = new ServedModels(index.baseModel, basePath, model.config, [...privates, ...mbc], routers);
    const template = (tokenizerConfig as { chat_template?: unknown } | null)?.chat_template;
    return {
      model,
      tokenizer,
      chatTemplate: typeof template === 'string' ? template : null,
      models,
      dispose: () => {
        models.dispose();
        model.dispose();
      },
    };
  } catch (err) {
    model.dispose();
    throw err;
  }
}
