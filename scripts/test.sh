#!/usr/bin/env bash
# The README's test command (`npm test`): does all set-up on a fresh machine, then runs every check.
#   1. npm ci (exact lockfile)         2. infra/local/up (install + start the real servers, migrate)
#   3. chromium, the web app's build    4. generated code is current, lint (biome), typecheck (tsc)
#   5. vitest: unit + integration projects, JSON report in .vitest-report.json
# Every step runs even when an earlier check fails, so one run shows every problem; exit non-zero on any.
set -uo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/node24.sh
source scripts/node24.sh
echo "node $(node --version) ($(command -v node))"
status=0
step() { printf '\n==> %s\n' "$*"; }

step "npm ci"
npm ci --no-audit --no-fund || exit 1
# chdb (current ClickHouse in-process, for the 18.16-vs-current compatibility tests) stays out of the
# lockfile: the registry serves only its linux-x64 native package, and `npm ci` refuses a lockfile
# that lacks the other platforms' optional packages. Installed here without touching package*.json.
npm install --no-save --no-audit --no-fund chdb@3.4.0 || exit 1

step "infra/local/up"
bash infra/local/up || { echo "local stack failed to start" >&2; exit 1; }

# The web app's browser tests (test/e2e/web-app.int.test.ts) drive Debian's Chromium with playwright-core;
# playwright downloads no browser of its own.
if [ ! -x /usr/bin/chromium ]; then
  step "chromium (Debian package, for the web app's browser tests)"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } || status=1
fi

step "web app build (vite: web/ -> web/dist, served by the API under /app)"
npm run build:web || status=1

if [ -f schemas/codegen.ts ]; then
  step "generated types are current (schemas/codegen.ts --check)"
  npx tsx schemas/codegen.ts --check || status=1
fi

step "docs/configuration.md is current (scripts/config-docs.ts --check)"
npx tsx scripts/config-docs.ts --check || status=1

step "lint (biome)"
npx biome check . || status=1

step "typecheck (tsc: the services, then the web app)"
npx tsc --noEmit -p tsconfig.json || status=1
npx tsc -p web/tsconfig.json || status=1

step "tests (vitest: unit + integration)"
rm -f .vitest-report.json
npx vitest run --reporter=default --reporter=json --outputFile.json=.vitest-report.json || status=1

node scripts/test-summary.mjs .vitest-report.json || status=1
exit $status
