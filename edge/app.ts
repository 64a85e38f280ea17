/**
 * The worker's HTTP surface. Today: health and the adapter table of the current manifest (what a
 * client may be routed to). Routing a prompt needs the ONNX embedder that `quiver compile` builds.
 */
import { Hono } from 'hono';
import { QuiverInputError } from '../shared/errors.js';
import { ManifestNotFoundError, type ManifestStore } from './manifest-store.js';

export interface AppDeps {
  store: ManifestStore;
}

export function createApp(deps: AppDeps): Hono {
  const app = new Hono();

  app.get('/healthz', async (c) => {
    const m = await deps.store.get();
    return c.json({ ok: true, checksum: m.metadata.checksum, adapters: m.metadata.adapters.length, modules: m.metadata.modules.length });
  });

  app.get('/v1/adapters', async (c) => {
    const md = (await deps.store.get()).metadata;
    return c.json({
      version: 1,
      baseModel: md.baseModel,
      checksum: md.checksum,
      routing: md.routing,
      adapters: md.adapters.map(({ id, kind, tasks, cluster, r }) => ({ id, kind, tasks, cluster, r })),
    });
  });

  app.notFound((c) => c.json({ error: { code: 'not_found', message: `no route ${c.req.method} ${c.req.path}; try GET /v1/adapters` } }, 404));

  // One error handler: a broken or missing manifest is the operator's to fix, never a crash.
  app.onError((err, c) => {
    if (err instanceof ManifestNotFoundError) return c.json({ error: { code: 'manifest_missing', message: err.message } }, 503);
    if (err instanceof QuiverInputError) return c.json({ error: { code: 'manifest_invalid', message: err.message } }, 503);
    console.error(err);
    return c.json({ error: { code: 'internal', message: 'internal error' } }, 500);
  });
  return app;
}
