/**
 * LoRAX's own checks of a generate request (predibase/lorax router/src/validation.rs `validate`, in
 * its order and with its messages, as 422 "validation"), the adapter checks it makes when it loads
 * a merge (server/lorax_server/utils/merges/strategies.py: equal ranks, as 424 "generation"), and
 * what the parameters mean for sampling (server/lorax_server/utils/tokens.py NextTokenChooser:
 * sampling when do_sample or any warper is set; temperature 0 is greedy even then).
 * Parameters LoRAX has but `quiver serve` does not implement are refused, never ignored.
 */
import type { AdapterChoice, ServedLora } from './adapter-choice.js';
import type { GenerateParameters } from './lorax-schemas.js';
import type { SamplingParams } from './sampling.js';
import { GREEDY } from './sampling.js';
import { ServeError } from './serve-error.js';
import type { ServedModels } from './served-models.js';

/** LoRAX's default --max-stop-sequences. */
export const MAX_STOP_SEQUENCES = 4;

const invalid = (message: string, param: string | null = null) => new ServeError('validation', message, param);
const unsupported = (what: string, param: string) => invalid(`quiver serve does not support ${what}`, param);

export interface LoraxPlan {
  adapter: AdapterChoice;
  sampling: SamplingParams;
  /** null: as many as the context leaves (LoRAX: max_total_tokens − input length). */
  maxNewTokens: number | null;
  ignoreEos: boolean;
  stop: string[];
}

export function validateParameters(p: GenerateParameters, inputs: string, models: ServedModels): LoraxPlan {
  const merged = p.merged_adapters ?? null;
  if (merged !== null && p.adapter_id != null) throw invalid('at most one of `adapter_id` or `adapters` may be provided', 'parameters.adapter_id');
  if (merged !== null) {
    if (merged.ids.length < 1) throw invalid('at least one adapter ID must be provided when setting `adapters`', 'parameters.merged_adapters.ids');
    if (merged.ids.length !== merged.weights.length) throw invalid('number of adapter IDs must match number of adapter weights', 'parameters.merged_adapters.weights');
  }
  const sampling = p.do_sample || (p.temperature != null && p.temperature !== 1 && p.temperature !== 0) || (p.top_k != null && p.top_k !== 0) || (p.top_p != null && p.top_p < 1) || (p.typical_p != null && p.typical_p < 1);
  const bestOf = p.best_of ?? 1;
  if (bestOf > 1 && !sampling) throw invalid('you must use sampling when `best_of` is > 1', 'parameters.best_of');
  const temperature = p.temperature ?? 1;
  if (temperature < 0) throw invalid('`temperature` must be non-negative', 'parameters.temperature');
  const repetition = p.repetition_penalty ?? 1;
  if (repetition <= 0) throw invalid('`repetition_penalty` must be strictly positive', 'parameters.repetition_penalty');
  const frequency = p.frequency_penalty ?? 0;
  if (frequency < -2 || frequency > 2) throw invalid('`frequency_penalty` must be >= -2.0 and <= 2.0', 'parameters.frequency_penalty');
  const presence = p.presence_penalty ?? 0;
  if (presence < -2 || presence > 2) throw invalid('`presence_penalty` must be >= -2.0 and <= 2.0', 'parameters.presence_penalty');
  if (p.top_p != null && (p.top_p <= 0 || p.top_p > 1)) throw invalid('`top_p` must be > 0.0 and < 1.0', 'parameters.top_p');
  if (p.typical_p != null && (p.typical_p <= 0 || p.typical_p >= 1)) throw invalid('`typical_p` must be > 0.0 and < 1.0', 'parameters.typical_p');
  if (p.top_k != null && p.top_k <= 0) throw invalid('`top_k` must be strictly positive', 'parameters.top_k');
  if (p.return_k_alternatives != null && p.return_k_alternatives <= 0) throw invalid('`return_k_alternatives` must be strictly positive', 'parameters.return_k_alternatives');
  if (p.max_new_tokens === 0) throw invalid('`max_new_tokens` must be strictly positive', 'parameters.max_new_tokens');
  if (p.stop.length > MAX_STOP_SEQUENCES) throw invalid(`\`stop\` supports up to ${MAX_STOP_SEQUENCES} stop sequences. Given: ${p.stop.length}`, 'parameters.stop');
  if (inputs.length === 0) throw invalid('`inputs` cannot be empty', 'inputs');

  // LoRAX features this server leaves out.
  if (bestOf !== 1) throw invalid('`best_of` != 1 is not allowed for this endpoint', 'parameters.best_of');
  if (repetition !== 1) throw unsupported('repetition_penalty', 'parameters.repetition_penalty');
  if (frequency !== 0) throw unsupported('frequency_penalty', 'parameters.frequency_penalty');
  if (presence !== 0) throw unsupported('presence_penalty', 'parameters.presence_penalty');
  if (p.typical_p != null) throw unsupported('typical_p', 'parameters.typical_p');
  if (p.return_k_alternatives != null) throw unsupported('return_k_alternatives', 'parameters.return_k_alternatives');
  if (p.watermark) throw unsupported('watermark', 'parameters.watermark');
  if (p.decoder_input_details) throw unsupported('decoder_input_details', 'parameters.decoder_input_details');
  if (p.truncate != null) throw unsupported('truncate', 'parameters.truncate');
  if (p.response_format != null) throw unsupported('response_format', 'parameters.response_format');
  if (p.apply_chat_template) throw unsupported('apply_chat_template (use /v1/chat/completions)', 'parameters.apply_chat_template');

  return {
    adapter: merged === null ? models.choice(p.adapter_id, 'parameters.adapter_id') : mergeChoice(merged, models),
    sampling: sampling && temperature !== 0 ? { temperature, topK: p.top_k ?? 0, topP: p.top_p ?? 1, seed: p.seed ?? null } : GREEDY,
    maxNewTokens: p.max_new_tokens ?? null,
    ignoreEos: p.ignore_eos_token,
    stop: p.stop,
  };
}

function mergeChoice(merged: NonNullable<GenerateParameters['merged_adapters']>, models: ServedModels): AdapterChoice {
  const strategy = merged.merge_strategy ?? 'linear';
  if (strategy !== 'linear') throw unsupported(`merge_strategy "${strategy}" (only "linear")`, 'parameters.merged_adapters.merge_strategy');
  const loras: ServedLora[] = merged.ids.map((id, i) => models.lora(id, `parameters.merged_adapters.ids.${i}`));
  const ranks = new Set(loras.map((l) => l.expert.r));
  if (ranks.size > 1) throw new ServeError('generation', `unable to merge adapters, lora configs have different ranks: {${[...ranks].join(', ')}}`, 'parameters.merged_adapters.ids');
  if (new Set(loras.map((l) => l.mixClass)).size > 1) {
    throw new ServeError('generation', 'quiver serve merges only adapters with the same lora_alpha and target modules', 'parameters.merged_adapters.ids');
  }
  return { kind: 'mix', parts: loras.map((lora, i) => ({ lora, weight: merged.weights[i]! })) };
}
