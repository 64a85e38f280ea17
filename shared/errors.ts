/**
 * One error type for input that Quiver refuses: a file, a field or a request that is not what it
 * should be. `where` names the file (and field or line) so the message tells the user what to fix.
 */
export class QuiverInputError extends Error {
  override readonly name = 'QuiverInputError';
  constructor(
    message: string,
    readonly where?: string,
  ) {
    super(where ? `${where}: ${message}` : message);
  }
}
