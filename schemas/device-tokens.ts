import { createHash, randomBytes } from 'node:crypto';

/**
 * The device-token store contract shared by the API (issues and revokes tokens) and the gateway (checks a
 * device's MQTT CONNECT against them): the token format, the hash PostgreSQL keeps, the Redis cache key and
 * the revocation channel. The operations on PostgreSQL and Redis are in services/common/device-tokens.ts.
 *
 * A token is 32 random bytes (base64url, 43 chars), shown once by the API; PostgreSQL keeps only its
 * SHA-256 (`devices.token_hash`). A fast unsalted hash is the right tool here, unlike for user passwords:
 * the token has 256 bits of entropy, so neither brute force nor precomputed tables can invert the hash,
 * and a slow KDF (bcrypt, scrypt) would only cost CPU on every MQTT CONNECT — thousands per second when a
 * fleet reconnects after a gateway restart. The unique index on `devices.token_hash` is safe for the same
 * reason.
 *
 * - string `fitstream:devtok:{deviceId}` (short TTL): the gateway's cache of a device's row, as JSON
 *   `DeviceTokenCacheEntry`; the API deletes it on revocation;
 * - pub/sub `fitstream:devtok:revoked`: the API publishes a revoked device's id, so gateways drop its
 *   live connections at once; the cache TTL bounds the staleness if that message is lost.
 */

export const DEVICE_TOKEN_BYTES = 32;
export const REVOCATION_CHANNEL = 'fitstream:devtok:revoked';

export const tokenCacheKey = (deviceId: string): string => `fitstream:devtok:${deviceId}`;

/** What the cache holds for a device id; `hash: ''` marks an unknown device (negative cache). */
export interface DeviceTokenCacheEntry {
  hash: string;
  userId: string;
  revoked: boolean;
}

export function generateDeviceToken(): string {
  return randomBytes(DEVICE_TOKEN_BYTES).toString('base64url');
}

/** SHA-256 hex of the token (see the module comment for why no salt or KDF). */
export function hashDeviceToken(token: string | Buffer): string {
  return createHash('sha256').update(token).digest('hex');
}
