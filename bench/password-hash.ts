// What one password hash costs here: the API's hashPassword (scrypt N=2^17, r=8, p=1) against the cheaper
// settings N=2^16 and N=2^15, alternating round by round so a load change on the shared machine hits all
// three alike; also one access-token sign + verify (EdDSA), which every authenticated request pays.
//
//   flock /tmp/fitstream-bench.lock npx tsx bench/password-hash.ts [rounds, default 7]
//
// docs/security.md quotes the result.
import { randomBytes, scrypt } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessTokens } from '../services/api/auth/access-tokens.js';
import { hashPassword, SCRYPT } from '../services/api/auth/passwords.js';
import { generateSigningKeySet, loadSigningKeys } from '../services/api/auth/signing-keys.js';

const rounds = Number(process.argv[2] ?? 7);
const derive = (log2N: number) =>
  new Promise<void>((resolve, reject) =>
    scrypt(
      'correct horse battery staple',
      randomBytes(16),
      32,
      { N: 2 ** log2N, r: 8, p: 1, maxmem: 256 << 20 },
      (e) => (e ? reject(e) : resolve()),
    ),
  );
const cases: [string, () => Promise<unknown>][] = [
  [`hashPassword (N=2^${SCRYPT.log2N})`, () => hashPassword('correct horse battery staple')],
  ['scrypt N=2^16', () => derive(16)],
  ['scrypt N=2^15', () => derive(15)],
];
const times = new Map<string, number[]>(cases.map(([name]) => [name, []]));
const load0 = loadavg()[0]!;
for (let i = 0; i < rounds; i++)
  for (const [name, run] of cases) {
    const t0 = performance.now();
    await run();
    times.get(name)!.push(performance.now() - t0);
  }

const file = join(mkdtempSync(join(tmpdir(), 'fitstream-bench-')), 'keys.json');
writeFileSync(file, JSON.stringify(await generateSigningKeySet()));
const tokens = new AccessTokens(await loadSigningKeys(file), { issuer: 'i', audience: 'a', ttlS: 900 });
const p = { user_id: '7b0c6a4e-1f43-4a56-9b1d-0c3f2a7e9d10', roles: [], session_id: 's' };
const n = 2000;
const t0 = performance.now();
for (let i = 0; i < n; i++) await tokens.verify(await tokens.sign(p));
const tokenUs = ((performance.now() - t0) / n) * 1000;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(
  `node ${process.version}, ${rounds} alternating rounds, load average ${load0.toFixed(1)} -> ${loadavg()[0]!.toFixed(1)}`,
);
for (const [name, xs] of times)
  console.log(
    `${name.padEnd(26)} median ${median(xs).toFixed(0)} ms  min ${Math.min(...xs).toFixed(0)}  max ${Math.max(...xs).toFixed(0)}`,
  );
console.log(`access token sign + verify   ${tokenUs.toFixed(0)} µs`);
