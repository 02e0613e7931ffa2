import { FitstreamError } from '../../schemas/fitstream-error.js';

/** The gateway's closed list of error codes. Code branches on `code`/`retryable`, never on message text. */
export const GATEWAY_ERROR_CODES = [
  'AUTH_BAD_CREDENTIALS',
  'AUTH_UNAVAILABLE',
  'TOPIC_FORBIDDEN',
  'SUBSCRIBE_FORBIDDEN',
  'ABUSE_LIMIT',
  'PRODUCE_FAILED',
  'SHUTTING_DOWN',
  'BRIDGE_CONNECT_FAILED',
] as const;

export type GatewayErrorCode = (typeof GATEWAY_ERROR_CODES)[number];

export abstract class GatewayError extends FitstreamError<GatewayErrorCode> {}

/** Unknown device, wrong or revoked token. MQTT: CONNACK 4 (bad user name or password). */
export class BadCredentialsError extends GatewayError {
  readonly code = 'AUTH_BAD_CREDENTIALS' as const;
}

/** PostgreSQL/Redis did not answer while checking a token. MQTT: CONNACK 3 (server unavailable). */
export class AuthUnavailableError extends GatewayError {
  readonly code = 'AUTH_UNAVAILABLE' as const;
  constructor(message: string, cause?: unknown) {
    super(message, { cause, retryable: true });
  }
}

/** A device published outside v1/devices/{its id}/... — refused, and the connection is closed. */
export class TopicForbiddenError extends GatewayError {
  readonly code = 'TOPIC_FORBIDDEN' as const;
}

/** A device subscribed to anything but its own command topic. */
export class SubscribeForbiddenError extends GatewayError {
  readonly code = 'SUBSCRIBE_FORBIDDEN' as const;
}

/** A connection sent too many rejected messages in the abuse window; it is closed. */
export class AbuseLimitError extends GatewayError {
  readonly code = 'ABUSE_LIMIT' as const;
}

/** Kafka did not take a batch; retried until it does (or the gateway stops). */
export class ProduceFailedError extends GatewayError {
  readonly code = 'PRODUCE_FAILED' as const;
  constructor(message: string, cause?: unknown) {
    super(message, { cause, retryable: true });
  }
}

/** The gateway is draining: new messages are not admitted. */
export class ShuttingDownError extends GatewayError {
  readonly code = 'SHUTTING_DOWN' as const;
}

/** The external broker (bridge mode) refused or did not answer. Retried with backoff. */
export class BridgeConnectError extends GatewayError {
  readonly code = 'BRIDGE_CONNECT_FAILED' as const;
  constructor(message: string, cause?: unknown) {
    super(message, { cause, retryable: true });
  }
}
