/**
 * An OnnxRuntime (compiled-library.ts) over an onnxruntime module: onnxruntime-node in the CLI,
 * onnxruntime-web in the worker and its tests. Both re-export onnxruntime-common, so one adapter
 * serves both; the caller imports the runtime (and sets it up: wasm paths, threads).
 */
import type { OnnxRuntime } from './compiled-library.js';
import type { OnnxSessionLike, OnnxTensorLike } from './onnx-embedder.js';

/** The members of `typeof import('onnxruntime-web' | 'onnxruntime-node')` the router uses. */
export interface OrtModuleLike {
  InferenceSession: {
    create(model: Uint8Array, options?: { graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all' }): Promise<OnnxSessionLike & { release(): Promise<void> }>;
  };
  Tensor: new (type: 'int64' | 'float32', data: BigInt64Array | Float32Array, dims: readonly number[]) => OnnxTensorLike;
}

export function ortRuntime(ort: OrtModuleLike): OnnxRuntime {
  return {
    createSession: (model) => ort.InferenceSession.create(model, { graphOptimizationLevel: 'all' }),
    tensors: {
      int64: (data, dims) => new ort.Tensor('int64', data, dims),
      float32: (data, dims) => new ort.Tensor('float32', data, dims),
    },
  };
}
