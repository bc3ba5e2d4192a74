#!/usr/bin/env bash
# Runs every test/**/*.test.ts with node:test through tsx (Node 20 has no --test globs).
# Extra arguments select files or folders, e.g. `npm test -- test/wire`.
set -euo pipefail
cd "$(dirname "$0")/.."
roots=("$@")
[ ${#roots[@]} -gt 0 ] || roots=(test)
mapfile -t files < <(find "${roots[@]}" -name '*.test.ts' | sort)
if [ ${#files[@]} -eq 0 ]; then echo "no test files under ${roots[*]}" >&2; exit 1; fi
exec node --import tsx --test --test-reporter=spec --test-concurrency=2 "${files[@]}"
