/**
 * A manifest's routing as the API reports it (`/v1/adapters`, `/v1/route`): the same fields as
 * RoutingDefaults, in snake_case, from one schema and one conversion.
 */
import { z } from '@hono/zod-openapi';
import { RoutingDefaults } from '../../shared/manifest/schema.js';

/** `votes`: one per input site or per routed module (shared/arrow/input-site-votes.ts). */
export const RoutingResponse = z.object({ top_k: z.number().int(), temperature: z.number(), threshold: z.number(), votes: RoutingDefaults.shape.votes });

export function routingResponse(r: RoutingDefaults): z.infer<typeof RoutingResponse> {
  return { top_k: r.topK, temperature: r.temperature, threshold: r.threshold, votes: r.votes };
}
