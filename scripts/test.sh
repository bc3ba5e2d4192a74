#!/usr/bin/env bash
# Runs every test/**/*.test.ts with node:test through tsx (Node 20 has no --test globs), on our
# HTTP/2 engine (the default); then the interop, wire and reliability suites run again on
# node:http2, the other selectable transport. Extra arguments select files or folders, e.g.
# `npm test -- test/wire` (one pass); SWITCHBOARD_TRANSPORT=node|switchboard forces one engine.
set -euo pipefail
cd "$(dirname "$0")/.."
run() {
  mapfile -t files < <(find "$@" -name '*.test.ts' | sort)
  if [ ${#files[@]} -eq 0 ]; then echo "no test files under $*" >&2; return 1; fi
  node --import tsx --test --test-reporter=spec --test-concurrency=2 "${files[@]}"
}
if [ $# -gt 0 ] || [ -n "${SWITCHBOARD_TRANSPORT:-}" ]; then
  run "${@:-test}"
  exit
fi
status=0
run test || status=$?
echo
echo "# again on node:http2 (SWITCHBOARD_TRANSPORT=node): test/interop test/wire test/reliability test/web"
SWITCHBOARD_TRANSPORT=node run test/interop test/wire test/reliability test/web || status=$?
exit "$status"
