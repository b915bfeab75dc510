#!/usr/bin/env bash
# buf breaking: the protos of this checkout stay wire- and source-compatible (buf.yaml's FILE rules) with those of
# the main branch, so a client built against main keeps working. The base is PROTO_BASE if set, else origin/main,
# else main; its proto/ and buf.yaml are taken from git into a scratch folder (no network, any clone depth).
set -euo pipefail
cd "$(dirname "$0")/.."

base="${PROTO_BASE:-}"
if [ -z "$base" ]; then
  for ref in origin/main main; do
    if git rev-parse -q --verify "$ref^{commit}" >/dev/null; then base="$ref"; break; fi
  done
fi
[ -n "$base" ] || { echo "proto-breaking: no main branch to compare the protos with (set PROTO_BASE)" >&2; exit 1; }

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
git archive "$base" proto buf.yaml | tar -x -C "$scratch"
echo "buf breaking against $base ($(git rev-parse --short "$base"))"
npx --yes @bufbuild/buf@1 breaking --against "$scratch"
