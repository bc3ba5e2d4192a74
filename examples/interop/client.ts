// gRPC interop test client on Switchboard's client (doc/interop-test-descriptions.md
// in the grpc repository; the cases are in cases.ts):
//
//   npm run interop:client -- --server_host H --server_port P --test_case all|NAME[,NAME...]
//     [--use_tls] [--server_host_override NAME] [--ca_file PATH]
//
// Prints one line per case (`PASS name`, `FAIL name: reason`, `SKIP name: reason`),
// then `N passed, M failed` (`, K skipped` when K > 0); exits 0 iff nothing failed.
//
// With --use_tls the server certificate is checked against --server_host_override,
// which is also the :authority, or against --server_host when there is no override
// (as the descriptions specify). --ca_file defaults to test/fixtures/tls/ca.pem.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ChannelCredentials } from "../../src/index.js";
import { CASES, runCase, type Target } from "./cases.js";

const STRINGS = ["server_host", "server_port", "test_case", "server_host_override", "ca_file"];
const BOOLEANS = ["use_tls"];
const DEFAULT_CA = fileURLToPath(new URL("../../test/fixtures/tls/ca.pem", import.meta.url));

function usage(message: string): never {
  process.stderr.write(
    `${message}\nusage: npm run interop:client -- --server_host H --server_port P --test_case all|NAME[,NAME...] ` +
      `[--use_tls] [--server_host_override NAME] [--ca_file PATH]\ncases: ${CASES.map(([n]) => n).join(", ")}\n`,
  );
  process.exit(2);
}

/** `--flag value` and `--flag=value`; booleans bare or as `--flag=true|false` (the upstream runners' form). */
function parseFlags(argv: string[]): Map<string, string | boolean> {
  const flags = new Map<string, string | boolean>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const m = /^--([a-z_]+)(?:=(.*))?$/.exec(arg);
    if (!m) usage(`unexpected argument: ${arg}`);
    const [, name, inline] = m as unknown as [string, string, string | undefined];
    if (BOOLEANS.includes(name)) {
      let value = inline;
      if (value === undefined && (argv[i + 1] === "true" || argv[i + 1] === "false")) value = argv[++i];
      if (value !== undefined && value !== "true" && value !== "false") usage(`--${name} takes true or false, got ${value}`);
      flags.set(name, value !== "false");
    } else if (STRINGS.includes(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) usage(`--${name} needs a value`);
      flags.set(name, value);
    } else {
      usage(`unknown flag: --${name}`);
    }
  }
  return flags;
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const str = (name: string) => flags.get(name) as string | undefined;
  const host = str("server_host");
  const port = str("server_port");
  const testCase = str("test_case");
  if (!host || !port || !testCase) usage("--server_host, --server_port and --test_case are required");
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) usage(`bad --server_port ${port}`);

  const names = testCase === "all" ? CASES.map(([n]) => n) : testCase.split(",").map((s) => s.trim());
  const selected = names.map((name) => CASES.find(([n]) => n === name) ?? usage(`unknown test case: ${name}`));

  const override = str("server_host_override");
  const target: Target = {
    address: host.includes(":") && !host.startsWith("[") ? `[${host}]:${port}` : `${host}:${port}`,
    credentials:
      flags.get("use_tls") === true
        ? ChannelCredentials.ssl({ rootCerts: readFileSync(str("ca_file") ?? DEFAULT_CA), ...(override ? { serverNameOverride: override } : {}) })
        : ChannelCredentials.insecure(),
  };

  const counts = { PASS: 0, FAIL: 0, SKIP: 0 };
  for (const [name, run] of selected) {
    const outcome = await runCase(target, run);
    counts[outcome.verdict]++;
    process.stdout.write(outcome.verdict === "PASS" ? `PASS ${name}\n` : `${outcome.verdict} ${name}: ${outcome.reason}\n`);
  }
  process.stdout.write(`${counts.PASS} passed, ${counts.FAIL} failed${counts.SKIP > 0 ? `, ${counts.SKIP} skipped` : ""}\n`);
  // Closed channels may keep a socket for a moment; don't wait for it.
  process.exit(counts.FAIL === 0 ? 0 : 1);
}

await main();
