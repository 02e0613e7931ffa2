import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  DEVICE_TOKEN_BYTES,
  generateDeviceToken,
  hashDeviceToken,
  REVOCATION_CHANNEL,
  tokenCacheKey,
} from './device-tokens.js';

describe('device tokens', () => {
  test('a token is 32 random bytes in base64url', () => {
    const t = generateDeviceToken();
    expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(t, 'base64url')).toHaveLength(DEVICE_TOKEN_BYTES);
    expect(new Set(Array.from({ length: 100 }, generateDeviceToken)).size).toBe(100);
  });

  test('the hash is SHA-256 hex, deterministic, and string/Buffer agnostic', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const h = hashDeviceToken(s);
        expect(h).toMatch(/^[0-9a-f]{64}$/);
        expect(hashDeviceToken(Buffer.from(s, 'utf8'))).toBe(h);
      }),
    );
    expect(hashDeviceToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  test('cache key and revocation channel (read by the gateway, written by the API)', () => {
    expect(tokenCacheKey('dev-1')).toBe('fitstream:devtok:dev-1');
    expect(REVOCATION_CHANNEL).toBe('fitstream:devtok:revoked');
  });
});
