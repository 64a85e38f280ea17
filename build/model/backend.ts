/**
 * Picks the TensorFlow.js backend at run time (docs/environment.md, "TensorFlow.js"): tfjs-node-gpu, then tfjs-node, then
 * wasm, then the pure-JS cpu backend. The two native ones are optionalDependencies whose install
 * downloads libtensorflow and fails on machines without internet or CUDA, so they are imported
 * dynamically and may simply be absent. Build-side only: the worker never picks a backend by trial.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';

export type BackendName = 'tfjs-node-gpu' | 'tfjs-node' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'];

/**
 * Whether a backend computes on one core, so that more cores need more processes (Quiver's
 * worker processes for train, eval and pretraining). wasm runs one thread here (no
 * SharedArrayBuffer threads in Node), cpu is plain JavaScript; tfjs-node's libtensorflow keeps
 * its own thread pools and tfjs-node-gpu computes on the GPU, where several processes would only
 * compete for the same device.
 */
export function computesOnOneCore(name: BackendName): boolean {
  return name === 'wasm' || name === 'cpu';
}

export interface SelectedBackend {
  name: BackendName;
  /** e.g. `wasm (SIMD, 1 thread)`: what was printed. */
  description: string;
}

export interface SelectBackendOptions {
  /** Where the one-line report goes; default stderr. */
  log?: (line: string) => void;
}

let wasmPathsSet = false;

async function importOptional(specifier: string): Promise<void> {
  // A variable specifier: TypeScript must not resolve a package that may not be installed.
  await import(specifier);
}

/** Loads and activates one backend; throws with the reason when it cannot. */
async function activate(name: BackendName): Promise<string> {
  switch (name) {
    case 'tfjs-node-gpu':
    case 'tfjs-node': {
      await importOptional(name === 'tfjs-node-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node');
      if (!(await tf.setBackend('tensorflow'))) throw new Error('the "tensorflow" backend did not initialise');
      return name;
    }
    case 'wasm': {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      if (!wasmPathsSet) {
        // The .wasm binaries sit next to the package's main file; tell the loader where.
        const main = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm');
        wasm.setWasmPaths(`${dirname(main)}/`);
        wasmPathsSet = true;
      }
      if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not initialise');
      const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
      const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
      return `wasm (${simd ? 'SIMD' : 'no SIMD'}, ${threads ? 'multi-threaded' : '1 thread'})`;
    }
    case 'cpu': {
      if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend did not initialise');
      return 'cpu (pure JavaScript, slowest)';
    }
  }
}

function reason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0] ?? message;
}

const HINTS: Record<BackendName, string> = {
  'tfjs-node-gpu': 'install @tensorflow/tfjs-node-gpu (needs CUDA 11.2 and cuDNN 8.1, or TFJS_NODE_BASE_URI pointing at a libtensorflow mirror)',
  'tfjs-node': 'install @tensorflow/tfjs-node (its install downloads libtensorflow; set TFJS_NODE_BASE_URI to a mirror without internet)',
  wasm: 'reinstall @tensorflow/tfjs-backend-wasm',
  cpu: 'the cpu backend ships with @tensorflow/tfjs; reinstall it',
};

/**
 * Activates `forced`, or the first backend that loads in the order tfjs-node-gpu, tfjs-node,
 * wasm, cpu, and reports it (`backend: wasm (SIMD, 1 thread)`). A forced backend that cannot load
 * is an error that says how to get it.
 */
export async function selectBackend(forced?: BackendName, options: SelectBackendOptions = {}): Promise<SelectedBackend> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (forced !== undefined && !BACKEND_NAMES.includes(forced)) {
    throw new Error(`unknown backend "${String(forced)}" (choose one of ${BACKEND_NAMES.join(', ')})`);
  }
  const order = forced ? [forced] : BACKEND_NAMES;
  const failures: string[] = [];
  for (const name of order) {
    try {
      const description = await activate(name);
      await tf.ready();
      log(`backend: ${description}`);
      return { name, description };
    } catch (err) {
      if (forced) throw new Error(`backend ${forced} could not be loaded (${reason(err)}): ${HINTS[forced]}, or choose another backend`);
      failures.push(`${name}: ${reason(err)}`);
    }
  }
  throw new Error(`no TensorFlow.js backend could be loaded:\n  ${failures.join('\n  ')}`);
}
