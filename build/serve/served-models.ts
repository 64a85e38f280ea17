/**
 * The models a `quiver serve` answers to, as vLLM lists them (`GET /v1/models`): the base model,
 * then every LoRA adapter (vLLM's `--lora-modules`: the library's private and MBC adapters, plus
 * any loaded at run time through /v1/load_lora_adapter), then Quiver's per-token Arrow routers.
 * Request names resolve here — vLLM's `model`, LoRAX's `adapter_id` and `merged_adapters.ids` — and
 * an unknown name is a 404.
 */
import { z } from 'zod';
import { QuiverInputError } from '../../shared/errors.js';
import type { LlamaConfig } from '../model/config.js';
import type { AdapterChoice, ServedLora, ServedRouter } from './adapter-choice.js';
import { readLoraExpert } from './read-lora-expert.js';
import { badRequest, notFound, ServeError } from './serve-error.js';

/** vLLM's ModelCard (vllm/entrypoints/openai/engine/protocol.py), without `permission`. */
export const ModelCard = z.object({
  id: z.string(),
  object: z.literal('model'),
  created: z.number().int(),
  owned_by: z.string(),
  root: z.string().nullable(),
  parent: z.string().nullable(),
  max_model_len: z.number().int().nullable(),
});
export type ModelCard = z.infer<typeof ModelCard>;

export const ModelList = z.object({ object: z.literal('list'), data: z.array(ModelCard) });
export type ModelList = z.infer<typeof ModelList>;

export const OWNED_BY = 'quiver';

export class ServedModels {
  private readonly loras = new Map<string, ServedLora>();
  private readonly routers = new Map<string, ServedRouter>();

  constructor(
    /** The base model's id: vLLM's served model name (the checkpoint's `_name_or_path`). */
    readonly baseName: string,
    private readonly basePath: string,
    private readonly modelConfig: LlamaConfig,
    loras: readonly ServedLora[],
    routers: readonly ServedRouter[],
  ) {
    for (const l of loras) this.add(l.name, () => this.loras.set(l.name, l));
    for (const r of routers) this.add(r.name, () => this.routers.set(r.name, r));
  }

  private add(name: string, put: () => void): void {
    if (name === this.baseName || this.loras.has(name) || this.routers.has(name)) throw new QuiverInputError(`two served models are named "${name}"`);
    put();
  }

  cards(now = Math.floor(Date.now() / 1000)): ModelList {
    const card = (id: string, root: string, parent: string | null, maxLen: number | null): ModelCard => ({ id, object: 'model', created: now, owned_by: OWNED_BY, root, parent, max_model_len: maxLen });
    return {
      object: 'list',
      data: [
        card(this.baseName, this.basePath, null, this.modelConfig.maxPositionEmbeddings),
        ...[...this.loras.values()].map((l) => card(l.name, l.path, this.baseName, null)),
        ...[...this.routers.values()].map((r) => card(r.name, r.root, this.baseName, null)),
      ],
    };
  }

  /** What `name` puts on the model; empty or absent means the base model (as vLLM does). */
  choice(name: string | null | undefined, param: string): AdapterChoice {
    if (!name || name === this.baseName) return { kind: 'base' };
    const lora = this.loras.get(name);
    if (lora) return { kind: 'mix', parts: [{ lora, weight: 1 }] };
    const router = this.routers.get(name);
    if (router) return { kind: 'router', router };
    throw notFound(`The model \`${name}\` does not exist.`, param);
  }

  /** A LoRA adapter by name (for merges: the base model and routers cannot be merged). */
  lora(name: string, param: string): ServedLora {
    const lora = this.loras.get(name);
    if (lora) return lora;
    if (name === this.baseName || this.routers.has(name)) throw new ServeError('validation', `"${name}" is not a LoRA adapter and cannot be merged`, param);
    throw notFound(`The model \`${name}\` does not exist.`, param);
  }

  /** vLLM's /v1/load_lora_adapter: a PEFT folder under a new name. */
  async load(name: string, path: string): Promise<void> {
    if (this.loras.has(name)) throw badRequest(`The lora adapter '${name}' has already been loaded.`, 'lora_name');
    if (name === this.baseName || this.routers.has(name)) throw badRequest(`"${name}" is already a served model`, 'lora_name');
    let lora: ServedLora;
    try {
      lora = await readLoraExpert(name, path, this.modelConfig);
    } catch (err) {
      if (!(err instanceof QuiverInputError)) throw err;
      if (/no such adapter folder/.test(err.message)) throw notFound(`Loading lora ${name} failed: ${err.message}`, 'lora_path');
      throw badRequest(`Loading lora ${name} failed: ${err.message}`, 'lora_path');
    }
    // Checked again: another load of the same name may have finished while this one read files.
    if (this.loras.has(name)) throw badRequest(`The lora adapter '${name}' has already been loaded.`, 'lora_name');
    this.loras.set(name, lora);
  }

  /** vLLM's /v1/unload_lora_adapter. Requests already running keep their copy of the weights. */
  unload(name: string): void {
    if (this.routers.has(name) || name === this.baseName) throw badRequest(`"${name}" is not a LoRA adapter`, 'lora_name');
    if (!this.loras.delete(name)) throw notFound(`The lora adapter '${name}' cannot be found.`, 'lora_name');
  }

  dispose(): void {
    for (const r of this.routers.values()) r.delta.dispose();
    this.routers.clear();
    this.loras.clear();
  }
}
