#!/usr/bin/env bash
# `npm run build` (and `prepack`): compiles src/ to ESM JavaScript, .d.ts and source maps in dist/
# (tsconfig.build.json), then copies the worker bootstrap, which is plain JavaScript on purpose
# (see src/execution/worker-boot.mjs) and so is not a tsc input.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf dist
npx tsc -p tsconfig.build.json
cp src/execution/worker-boot.mjs dist/execution/worker-boot.mjs
