/**
 * The router's Embedder in Node: shared/router/onnx-embedder.ts over an onnxruntime-node session.
 * onnxruntime-node loads a native library, so it is imported on first use, not by every command.
 */
import type { Manifest } from '../../shared/manifest/manifest-codec.js';
import { OnnxEmbedder } from '../../shared/router/onnx-embedder.js';

export interface NodeEmbedder {
  embedder: OnnxEmbedder;
  /** Frees the native session. */
  release(): Promise<void>;
}

/** `model`: the .onnx bytes; `where` names the file in errors. */
export async function createNodeEmbedder(model: Uint8Array, manifest: Pick<Manifest, 'metadata' | 'prototypes' | 'centres'>, where: string): Promise<NodeEmbedder> {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all' });
  try {
    const tensors = { int64: (data: BigInt64Array, dims: number[]) => new ort.Tensor('int64', data, dims), float32: (data: Float32Array, dims: number[]) => new ort.Tensor('float32', data, dims) };
    const embedder = new OnnxEmbedder(session, tensors, manifest, where);
    return { embedder, release: () => session.release() };
  } catch (err) {
    await session.release();
    throw err;
  }
}
