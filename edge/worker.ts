/**
 * Cloudflare Worker entry: settings from the bindings, the bundled library (replaced by a checked
 * manifest from R2 where one is bound), the configured backend, one app per isolate.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { openCompiledLibrary } from '../shared/router/compiled-library.js';
import { createApp } from './app.js';
import type { AppDeps } from './app-deps.js';
import { createBackend } from './backends/create-backend.js';
import { bundledFiles, BUNDLED_WHERE } from './bundled-library.js';
import { parseEdgeConfig } from './config.js';
import { LibraryStore } from './library-store.js';
import { workerdOnnxRuntime } from './ort-workerd.js';

let app: OpenAPIHono<{ Bindings: Env }> | null = null;
let deps: AppDeps | null = null;

function depsFor(env: Env): AppDeps {
  if (deps) return deps;
  const config = parseEdgeConfig(env as unknown as Record<string, unknown>);
  const library = new LibraryStore(() => openCompiledLibrary(bundledFiles, workerdOnnxRuntime, BUNDLED_WHERE), env.MANIFESTS ?? null, config.MANIFEST_KEY, config.MANIFEST_RECHECK_SECONDS * 1000);
  deps = { config, library, backend: createBackend(config, env.AI) };
  return deps;
}

export default {
  fetch(request, env, ctx) {
    app ??= createApp(() => depsFor(env));
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
