#!/usr/bin/env bash
# Property-based tests of the API against its own OpenAPI document: schemathesis (PyPI, pinned) generates
# requests for every operation of /docs/json and checks every answer (all checks: no server error, status
# codes and content types the document lists, bodies that match their schemas, ...).
#   scripts/schemathesis.sh <api base url> [extra st run options]
# Signs up and signs in a throw-away user first and sends its access token (ST_TOKEN, if set, instead).
# schemathesis lives in $FITSTREAM_DATA_DIR/venv-schemathesis, installed on first use.
# Size and seed: ST_MAX_EXAMPLES (default 10 per operation), ST_SEED (default 1).
# Every check runs but positive_data_acceptance (ST202, "a schema-valid request was rejected"): the API
# refuses some schema-valid input by rules no JSON Schema can state (an IANA time zone name, `from` not
# after `to`, a password on the common-passwords list), with a documented 400 problem.
set -euo pipefail
BASE="${1:?usage: scripts/schemathesis.sh <api base url> [st run options]}"
shift
VERSION=4.32.5
VENV="$(realpath -m "${FITSTREAM_DATA_DIR:-.data}")/venv-schemathesis"
if ! "$VENV/bin/st" --version 2>/dev/null | grep -q "$VERSION"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "schemathesis==$VERSION"
fi

if [ -z "${ST_TOKEN:-}" ]; then
  EMAIL="schemathesis-$(date +%s%N)@example.com"
  PASSWORD="schemathesis passphrase $RANDOM$RANDOM"
  curl -fsS -o /dev/null -H 'content-type: application/json' \
    -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\",\"name\":\"Schemathesis\",\"timezone\":\"UTC\"}" "$BASE/v1/users"
  ST_TOKEN="$(curl -fsS -H 'content-type: application/json' \
    -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" "$BASE/v1/auth/login" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
fi

# its example database (failures to retry first) lives beside it, not in the caller's directory
mkdir -p "$VENV/run" && cd "$VENV/run"
# Two passes. An answer of an event stream (a route ending in /stream) only ends when the request timeout
# cuts it, so those operations run alone with a 2 s timeout (their first event is sent at once); with the
# others' 10 s they took 482 of 515 s of a whole run.
st() {
  "$VENV/bin/st" run "$BASE/docs/json" --url "$BASE" \
    -H "Authorization: Bearer $ST_TOKEN" \
    --checks all --exclude-checks positive_data_acceptance --seed "${ST_SEED:-1}" --max-examples "${ST_MAX_EXAMPLES:-10}" \
    --workers 1 --no-color "$@"
}
status=0
st --exclude-path-regex '/stream$' --request-timeout 10 "$@" || status=$?
st --include-path-regex '/stream$' --request-timeout 2 "$@" || status=$?
exit "$status"
