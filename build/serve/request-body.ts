/**
 * A request body read at the boundary: JSON, then the route's zod schema. Anything else is a 400
 * naming the first field at fault (`param`, dotted: `parameters.merged_adapters.weights`) with every
 * problem in the message.
 */
import type { Context } from 'hono';
import type { z } from 'zod';
import { formatZodError } from '../../shared/zod-error.js';
import { badRequest } from './serve-error.js';

export async function readBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  let json: unknown;
  try {
    json = JSON.parse(await c.req.text());
  } catch (err) {
    throw badRequest(`the body is not valid JSON (${(err as Error).message})`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const param = first && first.path.length > 0 ? first.path.map(String).join('.') : null;
    throw badRequest(formatZodError(parsed.error), param);
  }
  return parsed.data;
}
