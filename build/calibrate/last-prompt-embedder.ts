import type { Embedder } from '../../shared/router/embedder.js';

/**
 * An Embedder that remembers the last prompt's logits: calibration routes every prompt once per
 * (top-k, temperature) of its grid through routeRequest, and the embedder's work does not depend on
 * those settings, so it runs once per prompt.
 */
export class LastPromptEmbedder implements Embedder {
  private last: { key: string; logits: Promise<Map<string, Float32Array>> } | null = null;

  constructor(private readonly inner: Embedder) {}

  run(ids: readonly number[]): Promise<Map<string, Float32Array>> {
    const key = ids.join(',');
    if (this.last?.key !== key) this.last = { key, logits: this.inner.run(ids) };
    return this.last.logits;
  }
}
