import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { GetDeps } from '../app-deps.js';
import { Health } from '../api/schemas.js';

const route = createRoute({
  method: 'get',
  path: '/healthz',
  summary: 'Liveness, the manifest serving, and the last refused manifest',
  responses: { 200: { content: { 'application/json': { schema: Health } }, description: 'Routing works' } },
});

export function registerHealth(app: OpenAPIHono<{ Bindings: Env }>, deps: GetDeps): void {
  app.openapi(route, async (c) => {
    const d = deps();
    const { library, source } = await d.library.get();
    const md = library.manifest.metadata;
    return c.json(
      {
        ok: true,
        checksum: md.checksum,
        source,
        adapters: md.adapters.length,
        modules: md.modules.length,
        refusal: d.library.currentRefusal(),
        backend: { kind: d.backend.kind, target: d.backend.target },
      },
      200,
    );
  });
}
