import { FitstreamError } from '../../schemas/fitstream-error.js';

/** Every failure the engagement service tells apart; code branches on `code` and `retryable`. */
export const ENGAGEMENT_ERRORS = {
  /** a record on activities.v1 that cannot be decoded or lacks what the read model needs: skipped */
  event_invalid: { retryable: false },
  /** PostgreSQL did not answer or refused the transaction: retried with back-off */
  store_unavailable: { retryable: true },
  /** Kafka or the schema registry did not take the outbox batch: retried */
  publish_failed: { retryable: true },
} as const;
export type EngagementErrorCode = keyof typeof ENGAGEMENT_ERRORS;

export class EngagementError extends FitstreamError<EngagementErrorCode> {
  constructor(
    readonly code: EngagementErrorCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause, retryable: ENGAGEMENT_ERRORS[code].retryable });
  }
}
