// Shared by the metrics tests: a TestService covering the four call types, and a parser of
// the Prometheus text format so tests read samples by name and labels, as a scraper would.
import * as assert from "node:assert/strict";
import { Code, RpcError, type Server } from "../../src/index.js";
import { TestService } from "../../examples/gen/grpc/testing/test_pb.js";
import type { Scope } from "../client/helpers.js";

export { T, until, within, deferred } from "../server/helpers.js";

export const UNARY = "/grpc.testing.TestService/UnaryCall";
export const SERVER_STREAM = "/grpc.testing.TestService/StreamingOutputCall";
export const CLIENT_STREAM = "/grpc.testing.TestService/StreamingInputCall";
export const BIDI = "/grpc.testing.TestService/FullDuplexCall";

const text = (b: Uint8Array | undefined) => Buffer.from(b ?? new Uint8Array()).toString();

/**
 * Registers TestService: unaryCall answers NOT_FOUND for the body "missing", streamingOutputCall
 * sends one message per responseParameters entry, streamingInputCall sums the sizes it got,
 * fullDuplexCall echoes each message (and waits for the client to end).
 */
export function addTestService(s: Server): void {
  s.addService(TestService, {
    unaryCall: (req) => {
      if (text(req.payload?.body) === "missing") throw new RpcError(Code.NOT_FOUND, "no such thing");
      return { payload: { body: req.payload?.body ?? new Uint8Array() } };
    },
    async *streamingOutputCall(req) {
      for (const p of req.responseParameters) yield { payload: { body: new Uint8Array(p.size) } };
    },
    async streamingInputCall(requests) {
      let total = 0;
      for await (const r of requests) total += r.payload?.body.length ?? 0;
      return { aggregatedPayloadSize: total };
    },
    async *fullDuplexCall(requests) {
      for await (const r of requests) yield { payload: r.payload };
    },
  });
}

/** A started TestService server of the scope. */
export function testServer(scope: Scope) {
  return scope.server(addTestService);
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  /** `# TYPE` of each family, by family name. */
  types: Map<string, string>;
  samples: Sample[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the Prometheus text format; a line that is neither a comment nor a sample fails the test. */
export function parseExposition(body: string): Exposition {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of body.split("\n")) {
    if (line === "" || line.startsWith("# HELP ")) continue;
    if (line.startsWith("# TYPE ")) {
      const [name, type] = line.slice(7).split(" ");
      assert.ok(name && type, `bad TYPE line: ${line}`);
      types.set(name, type);
      continue;
    }
    const m = SAMPLE.exec(line);
    assert.ok(m, `not a sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(LABEL)) labels[l[1]!] = l[2]!;
    // Go's ParseFloat, which Prometheus uses, takes NaN in any case (prom-client writes "Nan").
    const raw = m[3]!;
    const value = raw === "+Inf" ? Infinity : raw === "-Inf" ? -Infinity : /^nan$/i.test(raw) ? NaN : Number(raw);
    assert.ok(!Number.isNaN(value) || /^nan$/i.test(raw), `bad value in ${line}`);
    samples.push({ name: m[1]!, labels, value });
  }
  return { types, samples };
}

/** The samples of `name` whose labels include every entry of `labels`. */
export function find(e: Exposition, name: string, labels: Record<string, string> = {}): Sample[] {
  return e.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The one sample of `name` with `labels` (0 when there is none); two matches fail the test. */
export function value(e: Exposition, name: string, labels: Record<string, string> = {}): number {
  const found = find(e, name, labels);
  assert.ok(found.length <= 1, `${name} ${JSON.stringify(labels)} matches ${found.length} samples`);
  return found[0]?.value ?? 0;
}

/** The labels of TestService method `name` of call type `type`. */
export function testLabels(type: string, name: string): Record<string, string> {
  return { grpc_type: type, grpc_service: "grpc.testing.TestService", grpc_method: name };
}

/** The sum of every sample of `name` with `labels`. */
export function total(e: Exposition, name: string, labels: Record<string, string> = {}): number {
  return find(e, name, labels).reduce((a, s) => a + s.value, 0);
}

/**
 * Scrapes until `ok` holds (a call's status reaches the client a moment before the server's
 * callEnded runs), at most `ms`; returns that scrape.
 */
export async function scrapeUntil(source: { metrics(): Promise<string> }, ok: (e: Exposition) => boolean, what: string, ms = 3000): Promise<Exposition> {
  const end = Date.now() + ms;
  for (;;) {
    const e = parseExposition(await source.metrics());
    if (ok(e)) return e;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}\n${await source.metrics()}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Scrapes until the server has counted `n` handled calls in all. */
export function handled(source: { metrics(): Promise<string> }, n: number, side: "server" | "client" = "server"): Promise<Exposition> {
  return scrapeUntil(source, (e) => total(e, `grpc_${side}_handled_total`) >= n, `${n} handled calls`);
}
