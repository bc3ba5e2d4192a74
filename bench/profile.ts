// Where a bench server spends its CPU under the unary-small load: `npm run bench:profile --
// [--server sb|sbnode|grpcjs|bare|floor] [--requests N]`. The server runs with --cpu-prof on
// CPU 0 while h2load (CPU 1) sends N small unary calls (-c 4 -m 32, as unary-small does); the
// profile's self time is then summed per function and per area (our engine, the gRPC layer,
// protobuf, node internals, GC) and printed as markdown. docs/performance.md quotes it.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { h2load } from "./lib/h2load.js";
import { installCleanup, Lines, ROOT, spawnNode } from "./lib/proc.js";
import { LOAD_CPU, SERVER_CPU, SERVER_LABEL, type ServerKind } from "./lib/servers.js";
import { path, requests } from "./lib/workload.js";

const argv = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback;
};
const kind = arg("--server", "sb") as ServerKind;
const total = Number(arg("--requests", "200000"));
const FILES: Record<ServerKind, [string, string[]]> = {
  sb: ["bench/servers/switchboard.ts", ["--transport", "switchboard"]],
  sbnode: ["bench/servers/switchboard.ts", ["--transport", "node"]],
  grpcjs: ["bench/servers/grpcjs.ts", []],
  bare: ["bench/servers/bare.ts", []],
  floor: ["bench/servers/floor.ts", []],
};
if (!(kind in FILES) || !Number.isInteger(total) || total <= 0) {
  process.stderr.write("usage: bench/profile.ts [--server sb|sbnode|grpcjs|bare|floor] [--requests N]\n");
  process.exit(2);
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The area a frame belongs to, from its script URL. */
function area(url: string, name: string): string {
  if (name === "(garbage collector)") return "GC";
  if (name === "(program)" || name === "(idle)") return name;
  if (url.includes("/src/h2/")) return "our engine (src/h2)";
  if (url.includes("/src/")) return "gRPC layer (src/, not h2)";
  if (url.includes("@bufbuild/protobuf")) return "protobuf (@bufbuild/protobuf)";
  if (url.includes("node_modules")) return "other packages";
  if (url.startsWith("node:")) return "node internals (JS)";
  if (url === "") return "native (V8 builtins, C++)";
  return "bench server";
}

installCleanup();
const tmp = mkdtempSync(join(tmpdir(), "switchboard-profile-"));
const body = join(tmp, "body.bin");
writeFileSync(body, requests.unarySmall());
const [file, args] = FILES[kind];
const child = spawnNode(SERVER_CPU, file, ["--port", "0", ...args], ["--cpu-prof", `--cpu-prof-dir=${tmp}`]);
const lines = new Lines(child, `${SERVER_LABEL[kind]} server`);
const port = await lines.listeningPort();
// Warm-up (JIT), then the measured load.
await h2load({ port, path: path("Unary"), bodyFile: body, requests: 20_000, clients: 4, streams: 32, cpu: LOAD_CPU, timeoutMs: 60_000 });
const run = await h2load({ port, path: path("Unary"), bodyFile: body, requests: total, clients: 4, streams: 32, cpu: LOAD_CPU, timeoutMs: 120_000 });
await lines.stop(10_000);
const profileFile = readdirSync(tmp).find((f) => f.endsWith(".cpuprofile"));
if (!profileFile) throw new Error(`the server wrote no profile: ${lines.stderr}`);
const profile = JSON.parse(readFileSync(join(tmp, profileFile), "utf8")) as Profile;
rmSync(tmp, { recursive: true, force: true });

// Only the samples of the measured run count: module loading and JIT warm-up come before it.
const windowUs = (run.seconds + 0.5) * 1e6;
const hitsOf = new Map<number, number>();
let t = profile.startTime;
const times = profile.timeDeltas.map((d) => (t += d));
for (let i = 0; i < profile.samples.length; i++) {
  if (times[i]! < profile.endTime - windowUs) continue;
  hitsOf.set(profile.samples[i]!, (hitsOf.get(profile.samples[i]!) ?? 0) + 1);
}
const perSampleMs = windowUs / 1000 / Math.max(1, [...hitsOf.values()].reduce((a, b) => a + b, 0));
const byFunction = new Map<string, number>();
const byArea = new Map<string, number>();
let busy = 0;
for (const node of profile.nodes) {
  const hits = hitsOf.get(node.id) ?? 0;
  if (hits === 0) continue;
  const { functionName, url } = node.callFrame;
  const where = url.replace(`file://${ROOT}`, "").replace(/^.*node_modules\//, "");
  const key = `${functionName || "(anonymous)"} ${where}`.trim();
  byFunction.set(key, (byFunction.get(key) ?? 0) + hits);
  const a = area(url, functionName);
  byArea.set(a, (byArea.get(a) ?? 0) + hits);
  if (a !== "(idle)") busy += hits;
}
const pct = (hits: number) => `${((100 * hits) / busy).toFixed(1)} %`;
const out: string[] = [];
out.push(`## CPU profile: ${SERVER_LABEL[kind]}, ${total} small unary calls (h2load -c 4 -m 32)`, "");
out.push(`- ${run.reqPerSec.toFixed(0)} req/s over ${run.seconds.toFixed(2)} s; ${(busy * perSampleMs).toFixed(0)} ms of server CPU sampled in that run (${((busy * perSampleMs * 1000) / total).toFixed(1)} µs per call); shares are of the busy samples`, "");
out.push("| area | self time |", "|---|---:|");
for (const [a, hits] of [...byArea].filter(([a]) => a !== "(idle)").sort((x, y) => y[1] - x[1])) out.push(`| ${a} | ${pct(hits)} |`);
out.push("", "| function (top 25 by self time) | self time |", "|---|---:|");
for (const [f, hits] of [...byFunction].filter(([f]) => !f.startsWith("(idle)")).sort((x, y) => y[1] - x[1]).slice(0, 25)) out.push(`| \`${f}\` | ${pct(hits)} |`);
process.stdout.write(`${out.join("\n")}\n`);
