/** The error answers routes declare in the OpenAPI document, written once. */
import { ErrorBody } from './schemas.js';

const json = { 'application/json': { schema: ErrorBody } } as const;

export const UNAUTHORIZED = { 401: { content: json, description: 'No or a wrong API key' } } as const;
export const BAD_REQUEST = { 400: { content: json, description: 'A field is wrong; `param` names it' } } as const;
export const NO_SUCH_MODEL = { 404: { content: json, description: 'No such model' } } as const;
