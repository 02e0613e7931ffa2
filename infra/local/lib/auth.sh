#!/usr/bin/env bash
# The development key that signs the API's access tokens: $FS_DATA/auth/jwt-keys.json, written once
# (scripts/dev-signing-key.ts keeps an existing key). The API, the tests and the demo read it by default.
auth_dev_key() {
  (cd "$FS_REPO" && FITSTREAM_DATA_DIR="$FS_DATA" fs_tsx scripts/dev-signing-key.ts) \
    | sed 's/^/[auth] /' || fs_die "could not write the API signing key under $FS_DATA/auth"
}
