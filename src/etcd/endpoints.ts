// The endpoint records of etcd's gRPC naming (go.etcd.io/etcd/client/v3/naming/endpoints, which
// grpc-go's etcd resolver reads): key `<target>/<addr>`, value the JSON of
// `{"Op":0,"Addr":"host:port","Metadata":...}`, Op 0 = Add, 1 = Delete. Records written by
// Go services and by Switchboard are interchangeable.
import type { EtcdClient, PutOptions } from "./client.js";
import type { EtcdKeyValue } from "./keys.js";

/** Op values of the Go package's Operation type. */
export const EndpointOp = { Add: 0, Delete: 1 } as const;

/** One registered address under a target. */
export interface EndpointRecord {
  /** The etcd key (`<target>/<addr>`). */
  key: string;
  /** "host:port" as registered. */
  addr: string;
  metadata: unknown;
}

/** A value under a target that is no endpoint record; it is skipped, never thrown. */
export interface InvalidEndpoint {
  key: string;
  value: string;
  reason: string;
}

export type ParsedEndpoint = { ok: true; op: "add" | "delete"; addr: string; metadata: unknown } | { ok: false; reason: string };

/** The key of `addr` under `target`. */
export function endpointKey(target: string, addr: string): string {
  return `${target}/${addr}`;
}

/** The stored value for an added endpoint (what Go's `Manager.AddEndpoint` writes). */
export function encodeEndpoint(addr: string, metadata: unknown = null): string {
  return JSON.stringify({ Op: EndpointOp.Add, Addr: addr, Metadata: metadata ?? null });
}

/**
 * Reads one stored value. Go's encoding/json matches field names case-insensitively and a
 * missing Op is 0 (Add), so both are accepted; anything else malformed is `{ ok: false }`.
 */
export function parseEndpointValue(value: string): ParsedEndpoint {
  let v: unknown;
  try {
    v = JSON.parse(value);
  } catch {
    return { ok: false, reason: "value is not JSON" };
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return { ok: false, reason: "value is not a JSON object" };
  const field = (name: string): unknown => {
    const rec = v as Record<string, unknown>;
    if (name in rec) return rec[name];
    const k = Object.keys(rec).find((k) => k.toLowerCase() === name.toLowerCase());
    return k === undefined ? undefined : rec[k];
  };
  const op = field("Op") ?? EndpointOp.Add;
  if (op !== EndpointOp.Add && op !== EndpointOp.Delete) return { ok: false, reason: `Op must be 0 (Add) or 1 (Delete), not ${JSON.stringify(op)}` };
  const addr = field("Addr");
  if (typeof addr !== "string" || addr === "") return { ok: false, reason: "Addr is missing or not a non-empty string" };
  return { ok: true, op: op === EndpointOp.Add ? "add" : "delete", addr, metadata: field("Metadata") ?? null };
}

/** "host:port" | "[v6]:port" -> host and port; undefined when it is neither. */
export function splitHostPort(addr: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(addr);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1] ?? m[2]!, port };
}

/**
 * The endpoint records among the keys of one target's listing: Add records become endpoints,
 * Delete records are dropped, malformed ones go to `onInvalid`.
 */
export function endpointsFrom(kvs: readonly EtcdKeyValue[], onInvalid?: (bad: InvalidEndpoint) => void): EndpointRecord[] {
  const out: EndpointRecord[] = [];
  for (const kv of kvs) {
    const parsed = parseEndpointValue(kv.value);
    if (!parsed.ok) {
      onInvalid?.({ key: kv.key, value: kv.value, reason: parsed.reason });
      continue;
    }
    if (parsed.op === "add") out.push({ key: kv.key, addr: parsed.addr, metadata: parsed.metadata });
  }
  return out;
}

export interface EndpointsManagerOptions {
  /** Told about each malformed record a listing skipped. */
  onInvalid?: (bad: InvalidEndpoint) => void;
}

/** Adds, deletes and lists endpoint records (Go's endpoints.Manager, for any target). */
export class EndpointsManager {
  constructor(
    readonly client: EtcdClient,
    private readonly options: EndpointsManagerOptions = {},
  ) {}

  /** Writes `addr` under `target`, attached to `lease` when given (so it vanishes with the lease). */
  async addEndpoint(target: string, addr: string, metadata: unknown = null, options: PutOptions = {}): Promise<void> {
    await this.client.put(endpointKey(target, addr), encodeEndpoint(addr, metadata), options);
  }

  /** Removes `addr` from `target`. */
  async deleteEndpoint(target: string, addr: string): Promise<void> {
    await this.client.delete(endpointKey(target, addr));
  }

  /** The endpoints under `target` now, and the revision of that listing (watch from revision + 1). */
  async list(target: string): Promise<{ endpoints: EndpointRecord[]; revision: bigint }> {
    const { kvs, revision } = await this.client.getPrefix(`${target}/`);
    return { endpoints: endpointsFrom(kvs, this.options.onInvalid), revision };
  }
}
