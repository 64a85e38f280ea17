/**
 * One routing decision for one request, with the checks that depend on the library: the text to
 * route must not be empty, and `top_k` must lie in 1..adapters. The routing itself is
 * shared/router/route-request.ts, the code `quiver route` and `quiver eval` run.
 */
import { routeRequest, type RouteOptions, type RouteResult } from '../shared/router/route-request.js';
import type { CompiledLibrary } from '../shared/router/compiled-library.js';
import { invalidRequest } from './api/api-error.js';

export interface RoutingOverrides {
  top_k?: number | undefined;
  temperature?: number | undefined;
  threshold?: number | undefined;
}

/** `param` names the field the prompt came from; `overridesParam` the object holding the overrides. */
export async function decideRoute(library: CompiledLibrary, prompt: string, overrides: RoutingOverrides, param: string, overridesParam = ''): Promise<RouteResult> {
  if (prompt.trim() === '') throw invalidRequest(`${param} is empty: there is nothing to route`, param, 'empty_input');
  const adapters = library.manifest.metadata.adapters.length;
  if (overrides.top_k !== undefined && overrides.top_k > adapters) {
    throw invalidRequest(`top_k must be between 1 and ${adapters} (the library's adapters), got ${overrides.top_k}`, `${overridesParam}top_k`);
  }
  const options: RouteOptions = {};
  if (overrides.top_k !== undefined) options.topK = overrides.top_k;
  if (overrides.temperature !== undefined) options.temperature = overrides.temperature;
  if (overrides.threshold !== undefined) options.threshold = overrides.threshold;
  return routeRequest(library, prompt, options);
}
