import type { AdapterDelta } from '../model/llama.js';

/**
 * What a system puts on the model for a batch of examples: `rows` are the examples' indices in the
 * task, in batch order. A fixed adapter ignores them; a request-level router gives each row its own
 * merge. `release` frees what the call made, after the batch's forward passes.
 */
export type RowAdapter = (rows: readonly number[]) => { delta: AdapterDelta | null; release(): void };

/** The same adapter (or none) for every row. */
export function fixedAdapter(delta: AdapterDelta | null): RowAdapter {
  return () => ({ delta, release: () => {} });
}
