#!/usr/bin/env node
// The `switchboard` command. The package ships TypeScript sources (no build step) and node
// cannot run .ts itself, so tsx's loader is registered for this process before the CLI loads;
// the project's own tsconfig is used wherever the command is run from.
import { fileURLToPath } from "node:url";
import { register } from "tsx/esm/api";

register({ tsconfig: fileURLToPath(new URL("../tsconfig.json", import.meta.url)) });
const { run } = await import("../src/cli/main.ts");
await run(process.argv.slice(2));
