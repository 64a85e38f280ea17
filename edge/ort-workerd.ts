/**
 * onnxruntime-web inside workerd. Three things differ from a browser: the JSEP build is too big,
 * so the plain wasm entry is imported; workerd forbids compiling wasm from bytes at run time, so
 * the runtime's wasm is imported as a module (wrangler bundles `.wasm` as a WebAssembly.Module)
 * and substituted when onnxruntime instantiates its placeholder binary; and there are no threads
 * or workers, so one thread, no proxy (docs/environment.md, "Cloudflare Workers").
 */
import * as ort from 'onnxruntime-web/wasm';
import ortWasm from 'onnxruntime-web/ort-wasm-simd-threaded.wasm';
import type { OnnxRuntime } from '../shared/router/compiled-library.js';
import { ortRuntime, type OrtModuleLike } from '../shared/router/ort-runtime.js';

ort.env.wasm.numThreads = 1;
ort.env.wasm.proxy = false;
// Any bytes: onnxruntime hands them to WebAssembly.instantiate, which is swapped below.
ort.env.wasm.wasmBinary = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);

const runtime = ortRuntime(ort as unknown as OrtModuleLike);
let ready: Promise<void> | null = null;

/** Instantiates the bundled module in place of the placeholder, for the first session only. */
async function withBundledWasm<T>(run: () => Promise<T>): Promise<T> {
  const original = WebAssembly.instantiate;
  const substitute = (async (_source: unknown, imports?: WebAssembly.Imports) => ({ module: ortWasm, instance: await original(ortWasm, imports) })) as typeof WebAssembly.instantiate;
  WebAssembly.instantiate = substitute;
  try {
    return await run();
  } finally {
    WebAssembly.instantiate = original;
  }
}

export const workerdOnnxRuntime: OnnxRuntime = {
  tensors: runtime.tensors,
  async createSession(model) {
    if (!ready) {
      const first = withBundledWasm(() => runtime.createSession(model));
      ready = first.then(
        () => undefined,
        () => {
          ready = null;
        },
      );
      return first;
    }
    await ready;
    return runtime.createSession(model);
  },
};
