import { expect, test } from 'vitest';
import { hashPassword, passwordProblem, SCRYPT, verifyNothing, verifyPassword } from './passwords.js';

test('scrypt with the stated parameters, a fresh salt each time, verified with its own parameters', async () => {
  const t0 = performance.now();
  const h = await hashPassword('correct horse battery staple');
  const ms = performance.now() - t0;
  // Not an assertion on time (the machine decides): the figure docs/security.md quotes, printed per run.
  console.info(`scrypt N=2^${SCRYPT.log2N} r=${SCRYPT.r} p=${SCRYPT.p}: one hash took ${ms.toFixed(0)} ms`);
  const [scheme, log2N, r, p, salt, key] = h.split('$');
  expect([scheme, Number(log2N), Number(r), Number(p)]).toEqual(['scrypt', 17, 8, 1]);
  expect(Buffer.from(salt!, 'base64url')).toHaveLength(16);
  expect(Buffer.from(key!, 'base64url')).toHaveLength(32);
  expect(await hashPassword('correct horse battery staple')).not.toBe(h);
  expect(await verifyPassword('correct horse battery staple', h)).toBe(true);
  expect(await verifyPassword('correct horse battery stapl', h)).toBe(false);
  expect(await verifyPassword('x', 'not a hash')).toBe(false);
  // A hash made with other (cheaper) parameters still verifies: they are read from the stored value.
  const cheap = 'scrypt$10$8$1$c2FsdHNhbHRzYWx0c2FsdA$';
  const { scryptSync } = await import('node:crypto');
  const k = scryptSync('pw', Buffer.from('c2FsdHNhbHRzYWx0c2FsdA', 'base64url'), 32, { N: 1024, r: 8, p: 1 });
  expect(await verifyPassword('pw', cheap + k.toString('base64url'))).toBe(true);
  expect(await verifyNothing('anything')).toBe(false);
  // Six hashes of ~0.3-0.6 s each, on a machine that runs other suites too: more than vitest's default 5 s.
}, 60_000);

test('the password policy: length, common passwords, variety, the e-mail', () => {
  expect(passwordProblem('a long enough passphrase')).toBeNull();
  expect(passwordProblem('short')).toMatch(/shorter than 10/);
  expect(passwordProblem('Password1234')).toMatch(/most common/);
  expect(passwordProblem('QWERTYUIOP')).toMatch(/most common/);
  expect(passwordProblem('abababababab')).toMatch(/fewer than 4 different/);
  expect(passwordProblem('jane.doe.2026!', { email: 'jane.doe@example.com' })).toMatch(/e-mail/);
  expect(passwordProblem('x'.repeat(300))).toMatch(/longer than/);
  // Length counts characters, not UTF-16 units.
  expect(passwordProblem('🏃🏃🏃🏃🏃')).toMatch(/shorter than 10/);
});
