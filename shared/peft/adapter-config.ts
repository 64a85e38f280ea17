import { z } from 'zod';

/**
 * `adapter_config.json` of a PEFT LoRA adapter. PEFT writes many keys that Quiver does not use,
 * and new versions add more, so unknown keys pass through (this is a foreign format, not our
 * config); the keys Quiver relies on are checked.
 */
export const AdapterConfig = z.looseObject({
  peft_type: z.literal('LORA', { error: 'peft_type must be "LORA" (only LoRA adapters can be routed)' }),
  r: z.number().int().positive(),
  lora_alpha: z.number().positive(),
  target_modules: z.union([z.array(z.string()), z.string()]).nullish(),
  base_model_name_or_path: z.string().min(1, 'base_model_name_or_path must name the base model'),
  fan_in_fan_out: z.boolean().optional().default(false),
  use_dora: z.boolean().optional().default(false).refine((v) => !v, 'DoRA adapters (use_dora: true) are not supported'),
  use_rslora: z.boolean().optional().default(false),
  lora_dropout: z.number().min(0).max(1).optional(),
  bias: z.string().optional(),
  task_type: z.string().nullish(),
  rank_pattern: z.record(z.string(), z.number()).nullish(),
  alpha_pattern: z.record(z.string(), z.number()).nullish(),
  modules_to_save: z.array(z.string()).nullish(),
});
export type AdapterConfig = z.infer<typeof AdapterConfig>;

/** The config Quiver writes: the keys docs/interfaces.md lists, which PEFT, vLLM and LoRAX load. */
export function peftAdapterConfig(opts: {
  baseModel: string;
  r: number;
  loraAlpha: number;
  targetModules: string[];
  loraDropout?: number;
  /** Workers AI wants `model_type` in the config. */
  modelType?: string;
}): Record<string, unknown> {
  return {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    r: opts.r,
    lora_alpha: opts.loraAlpha,
    target_modules: [...opts.targetModules],
    base_model_name_or_path: opts.baseModel,
    bias: 'none',
    use_rslora: false,
    use_dora: false,
    fan_in_fan_out: false,
    lora_dropout: opts.loraDropout ?? 0,
    modules_to_save: null,
    inference_mode: true,
    ...(opts.modelType ? { model_type: opts.modelType } : {}),
  };
}
