/**
 * The one error type of `quiver serve`: an HTTP status, a message and (for a bad field) the field's
 * dotted path. Handlers and the engine throw it; each API family writes it in its own body shape
 * (error-bodies.ts), so the same failure reads as vLLM's ErrorResponse on /v1/* and as LoRAX's
 * ErrorResponse on /generate*.
 */
export type ServeErrorKind =
  /** 400: the request is malformed or asks for something this server does not do. */
  | 'invalid_request'
  /** 404: unknown model, adapter or route. */
  | 'not_found'
  /** 422: LoRAX's own validation refused the parameters (e.g. adapter_id with merged_adapters). */
  | 'validation'
  /** 424: LoRAX could not prepare the adapters (e.g. a merge of unequal ranks). */
  | 'generation'
  /** 500: a bug or the machine. */
  | 'internal';

const STATUS: Record<ServeErrorKind, 400 | 404 | 422 | 424 | 500> = {
  invalid_request: 400,
  not_found: 404,
  validation: 422,
  generation: 424,
  internal: 500,
};

export class ServeError extends Error {
  override readonly name = 'ServeError';
  readonly status: 400 | 404 | 422 | 424 | 500;
  constructor(
    readonly kind: ServeErrorKind,
    message: string,
    /** The request field at fault, dotted (`parameters.merged_adapters.weights`); null when none. */
    readonly param: string | null = null,
  ) {
    super(message);
    this.status = STATUS[kind];
  }
}

export const badRequest = (message: string, param: string | null = null) => new ServeError('invalid_request', message, param);
export const notFound = (message: string, param: string | null = null) => new ServeError('not_found', message, param);
