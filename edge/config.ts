/**
 * The worker's settings, from its bindings (wrangler.toml `[vars]`, secrets, `.dev.vars`), checked
 * once per isolate with one schema; every default is here with its reason.
 */
import { z } from 'zod';
import { formatZodError } from '../shared/zod-error.js';

const csv = z
  .string()
  .optional()
  .transform((s) => (s ?? '').split(',').map((x) => x.trim()).filter((x) => x.length > 0));

export const EdgeConfig = z.object({
  /** Which serving API the worker forwards to. vLLM is the common multi-LoRA server. */
  QUIVER_BACKEND: z.enum(['vllm', 'lorax', 'workers-ai']).default('vllm'),
  /** Base URL of the vLLM or LoRAX server (no path); unused for workers-ai. */
  QUIVER_BACKEND_URL: z.url({ protocol: /^https?$/ }).optional().or(z.literal('').transform(() => undefined)),
  /** Past this, the backend's answer (its headers, when streaming) is a 504. 60 s suits long generations. */
  QUIVER_BACKEND_TIMEOUT_MS: z.coerce.number().int().positive().default(60_000),
  /** Sent to the backend as `Authorization: Bearer …` (vLLM `--api-key`, a LoRAX gateway). */
  QUIVER_BACKEND_API_KEY: z.string().optional(),
  /** LoRAX `adapter_source` for every adapter (hub, local, s3, pbase); unset: LoRAX's default (hub). */
  QUIVER_LORAX_ADAPTER_SOURCE: z.enum(['hub', 'local', 's3', 'pbase']).optional().or(z.literal('').transform(() => undefined)),
  /** Prepended to adapter ids sent to LoRAX (e.g. `/data/library/private/` with source local). */
  QUIVER_ADAPTER_PREFIX: z.string().default(''),
  /** The Workers AI base model that takes the library's LoRAs (its `-lora` variant). */
  QUIVER_WORKERS_AI_MODEL: z.string().default('@cf/mistral/mistral-7b-instruct-v0.2-lora'),
  /** Client keys (a secret: `wrangler secret put QUIVER_API_KEYS`), comma-separated. */
  QUIVER_API_KEYS: csv,
  /** `none` opens the worker to anyone; nothing else does. Without keys and without it, every /v1 request is a 401. */
  QUIVER_AUTH: z.enum(['keys', 'none']).default('keys'),
  /** Origins allowed by CORS, comma-separated, or `*`; empty: no CORS headers. */
  CORS_ORIGINS: csv,
  /** R2 key of a manifest that replaces the bundled one. */
  MANIFEST_KEY: z.string().min(1).default('manifest.safetensors'),
  /** How often the worker asks R2 whether the manifest changed: an upload is live (or refused) within this. */
  MANIFEST_RECHECK_SECONDS: z.coerce.number().min(0).default(30),
});
export type EdgeConfig = z.infer<typeof EdgeConfig>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** The settings from the worker's env; a bad value is a ConfigError naming the variable. */
export function parseEdgeConfig(env: Record<string, unknown>): EdgeConfig {
  const r = EdgeConfig.safeParse(env);
  if (!r.success) throw new ConfigError(`worker configuration: ${formatZodError(r.error)}`);
  return r.data;
}
