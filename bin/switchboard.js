#!/usr/bin/env node
// The `switchboard` command. An installed package runs the compiled CLI in dist/ with plain
// Node. A source checkout (this repository: src/ is there, dist/ only after `npm run build`)
// runs the TypeScript sources through tsx, a devDependency, so the repository's tests and
// `npx switchboard` never meet a stale dist/. The package does not ship src/, so installed
// copies never take that branch.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const source = new URL("../src/cli/main.ts", import.meta.url);
let cli;
if (existsSync(fileURLToPath(source))) {
  const { register } = await import("tsx/esm/api");
  register({ tsconfig: fileURLToPath(new URL("../tsconfig.json", import.meta.url)) });
  cli = await import(source.href);
} else {
  cli = await import("../dist/cli/main.js");
}
await cli.run(process.argv.slice(2));
