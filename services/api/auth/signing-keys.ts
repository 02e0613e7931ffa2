import { randomUUID } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { type CryptoKey, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';

/**
 * The keys that sign access tokens: a JSON Web Key Set file of Ed25519 private keys (EdDSA).
 *
 * Why EdDSA: the API signs, but other services (the gateway, engagement, a future WebSocket edge) may
 * verify; with an asymmetric key they hold only the public half, so a leak from any of them cannot mint
 * tokens, which an HS256 secret shared with every verifier would allow. Ed25519 also signs and verifies
 * in tens of microseconds and has no parameter choices to get wrong (unlike ECDSA's nonces).
 *
 * Rotation: the FIRST key signs; every key in the file verifies. To rotate, put a new key first, keep the
 * old one for one access-token lifetime (15 min), then remove it. Each key's `kid` goes into the token
 * header, so a verifier picks the right key without trying them all.
 */
export const JWT_ALGORITHM = 'EdDSA';

export interface SigningKeys {
  /** the key new tokens are signed with */
  signing: { kid: string; key: CryptoKey };
  /** public JWKs (kid, alg) of every key that verifies */
  verifying: JWK[];
}

function invalid(file: string, why: string): Error {
  return new Error(`signing keys ${file}: ${why}`);
}

/** Reads and checks a key file written by `ensureDevSigningKeys` (or by an operator, same format). */
export async function loadSigningKeys(file: string): Promise<SigningKeys> {
  let parsed: { keys?: unknown };
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as { keys?: unknown };
  } catch (err) {
    throw invalid(file, `${(err as Error).message} (infra/local/up writes a development key there)`);
  }
  const keys = parsed.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw invalid(file, 'no "keys" array');
  const kids = new Set<string>();
  const verifying: JWK[] = [];
  let signing: SigningKeys['signing'] | undefined;
  for (const k of keys as JWK[]) {
    if (k.kty !== 'OKP' || k.crv !== 'Ed25519' || typeof k.d !== 'string' || typeof k.x !== 'string')
      throw invalid(file, 'every key must be an Ed25519 private JWK (kty OKP, crv Ed25519, d, x)');
    if (typeof k.kid !== 'string' || k.kid === '' || kids.has(k.kid))
      throw invalid(file, 'every key needs its own non-empty "kid"');
    kids.add(k.kid);
    verifying.push({ kty: k.kty, crv: k.crv, x: k.x, kid: k.kid, alg: JWT_ALGORITHM, use: 'sig' });
    signing ??= { kid: k.kid, key: (await importJWK(k, JWT_ALGORITHM)) as CryptoKey };
  }
  return { signing: signing!, verifying };
}

/** A fresh key set with one key. */
export async function generateSigningKeySet(): Promise<{ keys: JWK[] }> {
  const { privateKey } = await generateKeyPair(JWT_ALGORITHM, { crv: 'Ed25519', extractable: true });
  const jwk = await exportJWK(privateKey);
  return { keys: [{ ...jwk, kid: `dev-${randomUUID()}`, alg: JWT_ALGORITHM, use: 'sig' }] };
}

/**
 * Writes a development key set to `file` unless one is there already (idempotent, and safe when several
 * processes race: the file appears whole, and the first writer wins). Returns whether it wrote one.
 */
export async function ensureDevSigningKeys(file: string): Promise<boolean> {
  try {
    readFileSync(file);
    return false;
  } catch {}
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomUUID()}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(await generateSigningKeySet(), null, 2)}\n`, { mode: 0o600 });
  try {
    linkSync(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    unlinkSync(tmp);
  }
}
