/** Cloudflare Worker entry: bindings from wrangler.toml, one app and one manifest store per isolate. */
import type { Hono } from 'hono';
import { createApp } from './app.js';
import { ManifestStore, type ManifestBucket } from './manifest-store.js';

export interface Env {
  MANIFESTS: ManifestBucket;
  MANIFEST_KEY: string;
}

let app: Hono | null = null;

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response> {
    app ??= createApp({ store: new ManifestStore(env.MANIFESTS, env.MANIFEST_KEY) });
    return app.fetch(request, env, ctx);
  },
};
