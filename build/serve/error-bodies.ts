/**
 * Error bodies as each served API spells them:
 *  - vLLM (≥ 0.8, vllm/entrypoints/openai/engine/protocol.py `ErrorResponse`): nested
 *    `{error: {message, type, param, code}}`, `type` the exception class name, `code` the status;
 *  - LoRAX (router/src/lib.rs `ErrorResponse`): flat `{error, error_type}`.
 */
import { z } from 'zod';
import { ServeError, type ServeErrorKind } from './serve-error.js';

export const VllmErrorBody = z.object({
  error: z.object({ message: z.string(), type: z.string(), param: z.string().nullable(), code: z.number().int() }),
});
export type VllmErrorBody = z.infer<typeof VllmErrorBody>;

export const LoraxErrorBody = z.object({ error: z.string(), error_type: z.string() });
export type LoraxErrorBody = z.infer<typeof LoraxErrorBody>;

const VLLM_TYPE: Record<ServeErrorKind, string> = {
  invalid_request: 'BadRequestError',
  not_found: 'NotFoundError',
  validation: 'BadRequestError',
  generation: 'BadRequestError',
  internal: 'InternalServerError',
};

/** LoRAX's error_type strings (InferError::error_type); not_found is Quiver's (LoRAX would try the Hub). */
const LORAX_TYPE: Record<ServeErrorKind, string> = {
  invalid_request: 'validation',
  not_found: 'not_found',
  validation: 'validation',
  generation: 'generation',
  internal: 'internal',
};

export function vllmErrorBody(err: ServeError): VllmErrorBody {
  return { error: { message: err.message, type: VLLM_TYPE[err.kind], param: err.param, code: err.status } };
}

export function loraxErrorBody(err: ServeError): LoraxErrorBody {
  return { error: err.message, error_type: LORAX_TYPE[err.kind] };
}

/** Anything thrown, as a ServeError: unexpected errors become a 500 that names no internals. */
export function asServeError(err: unknown): ServeError {
  return err instanceof ServeError ? err : new ServeError('internal', 'internal error');
}
