#!/usr/bin/env bash
# `npm run build` (and `prepack`): compiles src/ to ESM JavaScript, .d.ts and source maps in dist/
# (tsconfig.build.json), then copies the worker bootstraps, which are plain JavaScript on purpose
# (see src/execution/worker-boot.mjs, src/cluster/worker-boot.mjs) and so are not tsc inputs.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf dist
npx tsc -p tsconfig.build.json
cp src/execution/worker-boot.mjs dist/execution/worker-boot.mjs
cp src/cluster/worker-boot.mjs dist/cluster/worker-boot.mjs
