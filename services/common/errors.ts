/**
 * Base class for Fitstream's typed errors. Each service keeps its own closed list of codes in its
 * errors.ts and subclasses this; code branches on `code` and `retryable`, never on message text.
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
