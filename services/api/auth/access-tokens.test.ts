import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { beforeAll, expect, test } from 'vitest';
import { ApiError } from '../errors.js';
import { AccessTokens } from './access-tokens.js';
import {
  ensureDevSigningKeys,
  generateSigningKeySet,
  loadSigningKeys,
  type SigningKeys,
} from './signing-keys.js';

const opts = { issuer: 'https://fitstream.test', audience: 'fitstream-api', ttlS: 900 };
const principal = { user_id: '7b0c6a4e-1f43-4a56-9b1d-0c3f2a7e9d10', roles: [], session_id: 'f1' };
let keys: SigningKeys;
let tokens: AccessTokens;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fitstream-keys-'));
  const file = join(dir, 'auth', 'jwt-keys.json');
  expect(await ensureDevSigningKeys(file)).toBe(true);
  const first = readFileSync(file, 'utf8');
  // Idempotent: a second run keeps the key (tokens stay valid across `infra/local/up`).
  expect(await ensureDevSigningKeys(file)).toBe(false);
  expect(readFileSync(file, 'utf8')).toBe(first);
  keys = await loadSigningKeys(file);
  tokens = new AccessTokens(keys, opts);
});

const code = async (p: Promise<unknown>) => {
  try {
    await p;
    return 'accepted';
  } catch (err) {
    return err instanceof ApiError ? err.code : String(err);
  }
};

const part = (token: string, i: number) =>
  JSON.parse(Buffer.from(token.split('.')[i]!, 'base64url').toString());
const withPart = (token: string, i: number, value: unknown) => {
  const p = token.split('.');
  p[i] = Buffer.from(JSON.stringify(value)).toString('base64url');
  return p.join('.');
};

test('a signed token verifies to its principal; its header names the algorithm, type and key', async () => {
  const t = await tokens.sign({ ...principal, roles: ['support'] });
  expect(await tokens.verify(t)).toEqual({ ...principal, roles: ['support'] });
  expect(part(t, 0)).toEqual({ alg: 'EdDSA', kid: keys.signing.kid, typ: 'at+jwt' });
  const claims = part(t, 1);
  expect(claims).toMatchObject({ sub: principal.user_id, iss: opts.issuer, aud: opts.audience, sid: 'f1' });
  expect(claims.exp - claims.iat).toBe(900);
});

test('expired, forged, wrong issuer or audience, alg none, tampered, unknown key: refused with a stable code', async () => {
  const t = await tokens.sign(principal);
  const expired = await new SignJWT({ roles: [], sid: 's' })
    .setProtectedHeader({ alg: 'EdDSA', kid: keys.signing.kid, typ: 'at+jwt' })
    .setSubject(principal.user_id)
    .setIssuer(opts.issuer)
    .setAudience(opts.audience)
    .setIssuedAt(Math.floor(Date.now() / 1000) - 3600)
    .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
    .sign(keys.signing.key);
  expect(await code(tokens.verify(expired))).toBe('token_expired');

  // Signed by another key that claims the same kid.
  const other = await loadSigningKeys(
    writeKeys({ keys: [{ ...(await generateSigningKeySet()).keys[0], kid: keys.signing.kid }] }),
  );
  expect(await code(new AccessTokens(other, opts).sign(principal).then((x) => tokens.verify(x)))).toBe(
    'token_invalid',
  );
  expect(
    await code(
      new AccessTokens(keys, { ...opts, audience: 'someone-else' })
        .sign(principal)
        .then((x) => tokens.verify(x)),
    ),
  ).toBe('token_invalid');
  expect(
    await code(
      new AccessTokens(keys, { ...opts, issuer: 'https://evil' })
        .sign(principal)
        .then((x) => tokens.verify(x)),
    ),
  ).toBe('token_invalid');
  // alg none: an unsigned token with the same claims.
  const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${t.split('.')[1]}.`;
  expect(await code(tokens.verify(none))).toBe('token_invalid');
  // Tampered payload (another user) under the original signature.
  expect(await code(tokens.verify(withPart(t, 1, { ...part(t, 1), sub: 'someone-else' })))).toBe(
    'token_invalid',
  );
  // Tampered header: HS256 with the same signature.
  expect(await code(tokens.verify(withPart(t, 0, { ...part(t, 0), alg: 'HS256' })))).toBe('token_invalid');
  expect(await code(tokens.verify(withPart(t, 0, { ...part(t, 0), kid: 'unknown' })))).toBe('token_invalid');
  expect(await code(tokens.verify(withPart(t, 0, { ...part(t, 0), typ: 'JWT' })))).toBe('token_invalid');
  expect(await code(tokens.verify('not.a.jwt'))).toBe('token_invalid');
});

test('rotation: a token of the previous key verifies while that key is still listed', async () => {
  const next = (await generateSigningKeySet()).keys[0]!;
  const old = JSON.parse(JSON.stringify({ keys: [{ ...next }] }));
  const oldKeys = await loadSigningKeys(writeKeys(old));
  const issuedBefore = await new AccessTokens(oldKeys, opts).sign(principal);
  const fresh = (await generateSigningKeySet()).keys[0]!;
  const rotated = await loadSigningKeys(writeKeys({ keys: [fresh, next] }));
  const afterRotation = new AccessTokens(rotated, opts);
  expect(rotated.signing.kid).toBe(fresh.kid);
  expect(await afterRotation.verify(issuedBefore)).toEqual(principal);
  const retired = new AccessTokens(await loadSigningKeys(writeKeys({ keys: [fresh] })), opts);
  expect(await code(retired.verify(issuedBefore))).toBe('token_invalid');
});

test('a key file that is not a set of Ed25519 private keys is refused with the reason', async () => {
  await expect(loadSigningKeys('/nonexistent/jwt-keys.json')).rejects.toThrow(/infra\/local\/up/);
  await expect(loadSigningKeys(writeKeys({ keys: [] }))).rejects.toThrow(/no "keys"/);
  const k = (await generateSigningKeySet()).keys[0]!;
  await expect(loadSigningKeys(writeKeys({ keys: [{ ...k, d: undefined }] }))).rejects.toThrow(/private JWK/);
  await expect(loadSigningKeys(writeKeys({ keys: [k, k] }))).rejects.toThrow(/own non-empty "kid"/);
});

function writeKeys(set: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'fitstream-keys-')), 'k.json');
  writeFileSync(file, JSON.stringify(set));
  return file;
}
