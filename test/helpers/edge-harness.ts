/**
 * The edge app in Node, as the worker builds it but for the runtime: the compiled folder read from
 * disk (build/io/compiled-router.ts, what `quiver route` reads), a real onnxruntime-web session
 * (wasm, one thread — the runtime workerd runs), an optional in-memory R2 bucket.
 */
import * as ortWeb from 'onnxruntime-web';
import { createApp } from '../../edge/app.js';
import { createBackend } from '../../edge/backends/create-backend.js';
import type { AiBinding } from '../../edge/backends/workers-ai.js';
import { parseEdgeConfig } from '../../edge/config.js';
import { LibraryStore, type ManifestBucket } from '../../edge/library-store.js';
import { readCompiledFiles } from '../../build/io/compiled-router.js';
import { openCompiledLibrary, type CompiledFiles } from '../../shared/router/compiled-library.js';
import { ortRuntime, type OrtModuleLike } from '../../shared/router/ort-runtime.js';

ortWeb.env.wasm.numThreads = 1;
export const webRuntime = ortRuntime(ortWeb as unknown as OrtModuleLike);

export interface HarnessOptions {
  compiled?: string;
  files?: CompiledFiles;
  vars?: Record<string, string>;
  bucket?: ManifestBucket;
  ai?: AiBinding;
  now?: () => number;
}

export async function edgeApp(options: HarnessOptions = {}) {
  const files = options.files ?? (await readCompiledFiles(options.compiled ?? 'library/compiled'));
  const config = parseEdgeConfig({ QUIVER_AUTH: 'none', QUIVER_BACKEND_URL: 'http://127.0.0.1:9', ...options.vars });
  const library = new LibraryStore(() => openCompiledLibrary(files, webRuntime, 'compiled'), options.bucket ?? null, config.MANIFEST_KEY, config.MANIFEST_RECHECK_SECONDS * 1000, options.now);
  const deps = { config, library, backend: createBackend(config, options.ai) };
  const app = createApp(() => deps);
  const json = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    app.request(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { app, deps, json };
}
