import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * User passwords: scrypt (node:crypto) with N = 2^17, r = 8, p = 1 and a 16-byte random salt, giving a
 * 32-byte key — OWASP's recommended scrypt setting (128 MiB of memory per hash, which is what makes a
 * GPU or ASIC search expensive). One hash takes about 340 ms on the 2-core development machine
 * (docs/security.md has the measurement), so sign-in and sign-up are rate limited.
 *
 * The stored form names its parameters, `scrypt$17$8$1$<salt>$<key>` (base64url), so they can be raised
 * later: a hash is verified with the parameters it was made with.
 */
export const SCRYPT = { log2N: 17, r: 8, p: 1, saltBytes: 16, keyBytes: 32 } as const;
// Node's default maxmem (32 MiB) is below what N = 2^17, r = 8 needs (128 * r * N bytes = 128 MiB).
const MAXMEM = 256 * 1024 * 1024;

function derive(password: string, salt: Buffer, log2N: number, r: number, p: number, len: number) {
  return new Promise<Buffer>((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, len, { N: 2 ** log2N, r, p, maxmem: MAXMEM }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SCRYPT.saltBytes);
  const key = await derive(password, salt, SCRYPT.log2N, SCRYPT.r, SCRYPT.p, SCRYPT.keyBytes);
  return [
    'scrypt',
    SCRYPT.log2N,
    SCRYPT.r,
    SCRYPT.p,
    salt.toString('base64url'),
    key.toString('base64url'),
  ].join('$');
}

const STORED = /^scrypt\$(\d{1,2})\$(\d{1,2})\$(\d{1,2})\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/;

/** Whether `password` matches `stored`; false for a malformed stored value (never throws on it). */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = STORED.exec(stored);
  if (!m) return false;
  const expected = Buffer.from(m[5]!, 'base64url');
  const key = await derive(
    password,
    Buffer.from(m[4]!, 'base64url'),
    +m[1]!,
    +m[2]!,
    +m[3]!,
    expected.length,
  );
  return timingSafeEqual(key, expected);
}

let dummy: Promise<string> | undefined;
/**
 * Spend the time of one verification when there is nothing to verify against (unknown e-mail, account
 * without a password), so the answer's timing does not tell whether the e-mail is registered.
 */
export async function verifyNothing(password: string): Promise<false> {
  dummy ??= hashPassword(randomBytes(16).toString('hex'));
  await verifyPassword(password, await dummy);
  return false;
}

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 256;

const common = new Set(
  readFileSync(new URL('./common-passwords.txt', import.meta.url), 'utf8')
    .split('\n')
    .map((l) => l.trim().toLowerCase())
    .filter((l) => l && !l.startsWith('#')),
);

/** Why a new password is refused ("is shorter than 10 characters"), or null when it is acceptable. */
export function passwordProblem(
  password: string,
  context: { email?: string; name?: string } = {},
): string | null {
  if ([...password].length < PASSWORD_MIN_LENGTH) return `is shorter than ${PASSWORD_MIN_LENGTH} characters`;
  if (password.length > PASSWORD_MAX_LENGTH) return `is longer than ${PASSWORD_MAX_LENGTH} characters`;
  const lower = password.toLowerCase();
  if (common.has(lower)) return 'is one of the most common passwords';
  if (new Set(lower).size < 4) return 'has fewer than 4 different characters';
  const local = context.email?.split('@')[0]?.toLowerCase();
  if (local && local.length >= 4 && lower.includes(local)) return 'contains the e-mail address';
  return null;
}
