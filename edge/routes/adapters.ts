import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { GetDeps } from '../app-deps.js';
import { UNAUTHORIZED } from '../api/error-responses.js';
import { routingResponse } from '../api/routing-response.js';
import { AdapterTable, ModelList } from '../api/schemas.js';
import { ROUTED_MODELS } from '../choose-adapters.js';

const adapters = createRoute({
  method: 'get',
  path: '/v1/adapters',
  summary: 'The adapters a request may be routed to, and their MBC clusters',
  security: [{ bearer: [] }],
  responses: {
    200: { content: { 'application/json': { schema: AdapterTable } }, description: "The serving manifest's adapter table" },
    ...UNAUTHORIZED,
  },
});

const models = createRoute({
  method: 'get',
  path: '/v1/models',
  summary: 'Model names a completion may ask for: auto, the base model, every adapter',
  security: [{ bearer: [] }],
  responses: {
    200: { content: { 'application/json': { schema: ModelList } }, description: 'OpenAI model list' },
    ...UNAUTHORIZED,
  },
});

export function registerAdapters(app: OpenAPIHono<{ Bindings: Env }>, deps: GetDeps): void {
  app.openapi(adapters, async (c) => {
    const { library, source } = await deps().library.get();
    const md = library.manifest.metadata;
    const clusters = new Map<string, { adapters: string[]; tasks: string[] }>();
    for (const a of md.adapters) {
      const id = a.kind === 'mbc' ? a.id : a.cluster;
      if (id === null) continue;
      const entry = clusters.get(id) ?? { adapters: [], tasks: [] };
      entry.adapters.push(a.id);
      for (const t of a.tasks) if (!entry.tasks.includes(t)) entry.tasks.push(t);
      clusters.set(id, entry);
    }
    return c.json(
      {
        version: 1 as const,
        base_model: md.baseModel,
        checksum: md.checksum,
        source,
        routing: routingResponse(md.routing),
        adapters: md.adapters.map(({ id, kind, tasks, cluster, r }) => ({ id, kind, tasks, cluster, r })),
        clusters: [...clusters].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true })).map(([id, v]) => ({ id, ...v })),
      },
      200,
    );
  });

  app.openapi(models, async (c) => {
    const md = (await deps().library.get()).library.manifest.metadata;
    const ids = [...ROUTED_MODELS, md.baseModel, ...md.adapters.map((a) => a.id)];
    return c.json({ object: 'list' as const, data: ids.map((id) => ({ id, object: 'model' as const, created: 0, owned_by: 'quiver' })) }, 200);
  });
}
