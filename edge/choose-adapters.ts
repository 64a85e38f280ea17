/**
 * The adapters a request is served with, from its `model`: `auto` (or `quiver`) routes the prompt
 * with Arrow; an adapter id of the library, or the base model's id, is passed through unrouted;
 * anything else is a 404 naming the models there are.
 */
import type { CompiledLibrary } from '../shared/router/compiled-library.js';
import type { RouteResult } from '../shared/router/route-request.js';
import { ApiError, invalidRequest } from './api/api-error.js';
import type { Weighted } from './backends/backend.js';
import { decideRoute, type RoutingOverrides } from './route-decision.js';

export const ROUTED_MODELS = ['auto', 'quiver'] as const;

export interface Choice {
  /** Best first, weights summing to 1; empty: the base model. */
  adapters: Weighted[];
  baseFallback: boolean;
  /** The routing behind the choice; null when the model was named. */
  route: RouteResult | null;
}

export async function chooseAdapters(library: CompiledLibrary, model: string, prompt: () => { text: string | null; param: string }, overrides: RoutingOverrides | undefined): Promise<Choice> {
  const md = library.manifest.metadata;
  if ((ROUTED_MODELS as readonly string[]).includes(model)) {
    const p = prompt();
    if (p.text === null) throw invalidRequest('messages has no user message: there is nothing to route', p.param, 'empty_input');
    const route = await decideRoute(library, p.text, overrides ?? {}, p.param, 'quiver.');
    return { adapters: route.selected, baseFallback: route.belowThreshold, route };
  }
  if (overrides !== undefined) throw invalidRequest(`quiver routing overrides apply to model "auto" only; "${model}" is served unrouted`, 'quiver', 'unexpected_field');
  if (model === md.baseModel) return { adapters: [], baseFallback: false, route: null };
  if (md.adapters.some((a) => a.id === model)) return { adapters: [{ id: model, weight: 1 }], baseFallback: false, route: null };
  throw new ApiError(404, `the model "${model}" does not exist: use "auto" to route, the base model "${md.baseModel}", or an adapter id (GET /v1/adapters)`, 'invalid_request_error', 'model', 'model_not_found');
}
