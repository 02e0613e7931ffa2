/**
 * Base class for Fitstream's typed errors. Each part keeps its own closed list of codes in its errors.ts
 * (schemas/errors.ts, pipelines/import/errors.ts, services/<name>/errors.ts) and subclasses this; code
 * branches on `code` and `retryable`, never on message text. It lives in schemas/, the one part that
 * every other may import, so the contract and the stages do not depend on a service.
 */
export abstract class FitstreamError<C extends string = string> extends Error {
  abstract readonly code: C;
  readonly retryable: boolean;

  constructor(message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryable = options.retryable ?? false;
    this.name = new.target.name;
  }
}
