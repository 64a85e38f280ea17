/**
 * The router's view of the embedder: the base model (or its first layers) run on one prompt,
 * returning Arrow logits |x · v_e| at every routed module — x the module's input hidden state, v_e
 * adapter e's prototype. Node implements it with onnxruntime-node, the edge with onnxruntime-web
 * (both through onnx-embedder.ts); anything else that has the hidden states can too.
 */
export interface Embedder {
  /** `ids`: one prompt's token ids. Per routed module key: row-major [ids.length, adapters] logits. */
  run(ids: readonly number[]): Promise<Map<string, Float32Array>>;
}
