// tsc compiles only .ts: copy the runtime assets that sit beside the code into dist/.
import { cpSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const assets = [
  ['services/api', /\.html$/],
  ['services/api/auth', /\.txt$/],
  ['schemas', /\.(avsc|json)$/],
];
for (const [dir, pattern] of assets) {
  for (const f of readdirSync(dir)) if (pattern.test(f)) cpSync(join(dir, f), join('dist', dir, f));
}
// the web app's build (npm run build:web), where the compiled API looks for it (services/api/web-app.ts)
if (existsSync('web/dist')) cpSync('web/dist', 'dist/web/dist', { recursive: true });
