/**
 * Linear warmup then linear decay to zero, as transformers' get_linear_schedule_with_warmup
 * (the paper's schedule, 6% warmup). Step 0 is the first optimizer step, so with warmup the first
 * update has learning rate 0, as in transformers.
 */
export function warmupSteps(totalSteps: number, warmupRatio: number): number {
  // transformers' TrainingArguments.get_warmup_steps rounds up.
  return Math.ceil(totalSteps * warmupRatio);
}

/** Multiplier of the peak learning rate at 0-based `step`. */
export function linearWarmupDecay(step: number, totalSteps: number, warmup: number): number {
  if (step < warmup) return step / Math.max(1, warmup);
  return Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmup));
}
