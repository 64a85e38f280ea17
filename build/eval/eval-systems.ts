/**
 * The systems `quiver eval` compares (docs/method.md, "Baselines", "Arrow routing, per token" and "Request-level Arrow"): the base model,
 * μ-merges, Arrow per token inside the model (the paper's form), Arrow per request (what the edge
 * can do: one routing decision from the prompt, then one adapter or one LoRAX `linear` merge for
 * the whole request), MBC adapters, and the oracle.
 *
 * Per-token Arrow mixes parameters, (Σ w·A)(Σ w·B) per token, as the reference mttl code does: the
 * μ baseline and the LoRAX merge mix parameters too, so per-token against request-level differs in
 * the routing granularity alone. `private-arrow-outputs` measures PEFT's output mix beside it.
 */
export const SYSTEM_IDS = [
  'base',
  'private-mu',
  'private-arrow',
  'private-arrow-outputs',
  'private-req-top1',
  'private-req-topk',
  'mbc-mu',
  'mbc-arrow',
  'oracle',
  'family-oracle',
] as const;
export type SystemId = (typeof SYSTEM_IDS)[number];

export interface SystemInfo {
  id: SystemId;
  /** One line for tables and the report. */
  description: string;
}

const DESCRIPTIONS: Record<SystemId, string> = {
  base: 'the base model, no adapter',
  'private-mu': 'uniform merge of every private adapter (mean A, mean B)',
  'private-arrow': 'Arrow per token over the private adapters, top-k, parameter mix (Σw·A)(Σw·B) (mttl)',
  'private-arrow-outputs': "Arrow per token over the private adapters, top-k, output mix Σw·B·A·x (PEFT's arrow.py)",
  'private-req-top1': 'request-level Arrow: the best private adapter for the whole prompt (vLLM, Workers AI)',
  'private-req-topk': 'request-level Arrow: top-k private adapters merged Σw·A, Σw·B with the renormalised weights (LoRAX linear)',
  'mbc-mu': 'uniform merge of every MBC cluster adapter',
  'mbc-arrow': 'Arrow per token over the MBC adapters, top-k, parameter mix',
  oracle: "the task's own private adapter (in-distribution only)",
  'family-oracle': "the best private adapter of the task's target family, chosen on the task's valid split (held-out only)",
};

export const SYSTEMS: readonly SystemInfo[] = SYSTEM_IDS.map((id) => ({ id, description: DESCRIPTIONS[id] }));

/** What decides whether a system runs on a task (an EvalTask's fields). */
export interface SystemTaskShape {
  split: 'in-distribution' | 'held-out';
  ownAdapter: number | null;
  familyAdapters: readonly number[];
}

/**
 * Whether `system` scores `task`: the oracle needs the task's own adapter (in-distribution); the
 * family oracle a held-out task whose target family has private adapters in the library. Every
 * other system runs everywhere.
 */
export function runsOn(system: SystemId, task: SystemTaskShape): boolean {
  if (system === 'oracle') return task.ownAdapter !== null;
  if (system === 'family-oracle') return task.split === 'held-out' && task.familyAdapters.length > 0;
  return true;
}

export function isSystemId(s: string): s is SystemId {
  return (SYSTEM_IDS as readonly string[]).includes(s);
}
