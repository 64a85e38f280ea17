/**
 * What one request puts on the base model: nothing, one LoRA or a LoRAX `linear` merge of several
 * (Σw·A, Σw·B, applied per batch row by build/eval/row-mix.ts), or a per-token Arrow router (the
 * paper's form, build/model/arrow-router.ts).
 */
import type { ArrowExpert } from '../model/arrow-router.js';
import type { AdapterDelta } from '../model/llama.js';

export interface ServedLora {
  /** The name requests use (vLLM `model`, LoRAX `adapter_id`). */
  name: string;
  /** Unique per loaded instance: reloading a name makes a new one. */
  key: string;
  /** The PEFT folder it was read from. */
  path: string;
  expert: ArrowExpert;
  loraAlpha: number;
  /** Rows can share one parameter mix only when r, α and the wrapped modules agree. */
  mixClass: string;
}

export interface ServedRouter {
  name: string;
  /** What it routes among, for /v1/models. */
  root: string;
  delta: AdapterDelta & { dispose(): void };
}

export type AdapterChoice =
  | { kind: 'base' }
  | { kind: 'mix'; parts: ReadonlyArray<{ lora: ServedLora; weight: number }> }
  | { kind: 'router'; router: ServedRouter };

/** `r/α/modules`: the key under which LoRAs can be mixed in one RowMix. */
export function mixClassOf(expert: ArrowExpert, loraAlpha: number): string {
  return `${expert.r}/${loraAlpha}/${expert.modules.map((m) => m.key).join(',')}`;
}
