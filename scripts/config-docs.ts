// Generates docs/configuration.md from the services' env shapes (the single source of truth).
// `--check` exits 1 when the committed page differs, so CI catches a setting added without docs.
import { readFileSync, writeFileSync } from 'node:fs';
import type { z } from 'zod';
import { apiEnv } from '../services/api/config.js';
import { engagementEnv } from '../services/engagement/config.js';
import { gatewayEnv } from '../services/gateway/config.js';
import { workerEnv } from '../services/worker/config.js';

const services: Record<string, Record<string, z.ZodType>> = {
  gateway: gatewayEnv,
  worker: workerEnv,
  api: apiEnv,
  engagement: engagementEnv,
};
const out = new URL('../docs/configuration.md', import.meta.url);

function defaultOf(schema: z.ZodType): string {
  const r = schema.safeParse(undefined);
  if (!r.success) return '(required)';
  const v = r.data;
  if (v === '') return '""';
  return Array.isArray(v) ? v.join(',') : String(v);
}

const rows = new Map<string, { def: string; used: string[] }>();
for (const [svc, shape] of Object.entries(services)) {
  for (const [name, schema] of Object.entries(shape)) {
    const row = rows.get(name) ?? { def: defaultOf(schema), used: [] };
    row.used.push(svc);
    rows.set(name, row);
  }
}

const text = `# Configuration

Every setting is an environment variable; every default matches the local stack (\`infra/local/up\`),
so any service starts with no environment at all. Values are validated at start: a bad one stops the
service with one line naming the variable and what was expected, e.g.

\`\`\`
fitstream-gateway: invalid config: KAFKA_BROKERS="nonsense" (expected a comma-separated list of host:port)
\`\`\`

Rules between settings (e.g. \`BATCH_MAX_BYTES\` ≥ \`MAX_PAYLOAD_BYTES\` + 1 KiB) are checked the same way;
see each service's \`config.ts\` for the meaning of its settings. This page is generated from those files
by \`npx tsx scripts/config-docs.ts\` (CI runs it with \`--check\`).

| variable | default | used by |
|---|---|---|
${[...rows.entries()]
  .sort(([a], [b]) => a.localeCompare(b))
  .map(([name, r]) => `| \`${name}\` | \`${r.def}\` | ${r.used.join(', ')} |`)
  .join('\n')}
`;

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(out, 'utf8');
  } catch {}
  if (current !== text) {
    console.error('docs/configuration.md is stale: run npx tsx scripts/config-docs.ts');
    process.exit(1);
  }
} else {
  writeFileSync(out, text);
}
