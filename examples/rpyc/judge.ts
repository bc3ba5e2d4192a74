// The JUDGE service of the RPyC example (examples/rpyc/server.ts): one member per behaviour a
// stock Python rpyc client can check, so the example doubles as the contract interop tests run
// against. Every member is reachable as `name` and as `exposed_name`.
//
// It lives in a module of its own and is exported so the ThreadPoolServer and ForkingServer can
// load it in their workers and child processes (serviceModule = this file's URL, serviceExport
// = "JudgeService"). State that must be shared by all connections (the counters and who holds
// them) is module-level, so members that read it run on the main thread (JUDGE_MAIN_THREAD).
import { setTimeout as sleep } from "node:timers/promises";
import { byRef, isPyFloat, isPyInt, PyComplex, PyError, pyFloat, PyFloat, PySlice, PyFrozenSet, Service, type Connection } from "switchboard/rpyc";

/** The longest slow(seconds) accepts: a client waits 30 s for an answer by default. */
export const MAX_SLOW_SECONDS = 20;
/** The longest list make_list(n) builds. */
export const MAX_LIST_LENGTH = 1_000_000;

/**
 * The members that touch state shared by every connection (counters, the connections holding
 * them) or the connection itself (callbacks, credentials, by-reference results): a server that
 * runs calls elsewhere must run these on the main thread.
 */
export const JUDGE_MAIN_THREAD: readonly string[] = ["callback", "counter", "live_counters", "make_list", "credentials", "echo"];

/** The connections being served, to ask which of them still hold a counter. */
const connections = new Set<Connection>();
/** Counters handed out and maybe still held; pruned when no connection holds them any more. */
const counters = new Set<Counter>();

/** A server object passed by reference: `.value` is readable, not writable; `._secret` is refused. */
export class Counter {
  #value = 0;
  // exists, so refusing it is the policy at work and not a missing attribute
  _secret = "not for the client";

  get exposed_value(): number {
    return this.#value;
  }

  exposed_increment(by: unknown = 1): number {
    if (!isPyInt(by)) throw new PyError("TypeError", [`increment() by must be an int, not ${pyTypeName(by)}`]);
    this.#value += Number(by);
    return this.#value;
  }

  /** The same object: the client gets its cached proxy back (`c.same() is c`). */
  exposed_same(): Counter {
    return this;
  }
}

/** How many counters some live connection still holds (the others are forgotten here). */
function liveCounters(): number {
  let live = 0;
  for (const c of counters) {
    if ([...connections].some((conn) => conn.holds(c))) live++;
    else counters.delete(c);
  }
  return live;
}

/** Python's type name of a value as it arrived (for TypeError messages). */
function pyTypeName(v: unknown): string {
  if (v === null || v === undefined) return "NoneType";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "string") return "str";
  if (isPyFloat(v)) return "float";
  if (isPyInt(v)) return "int";
  if (v instanceof Uint8Array) return "bytes";
  if (v instanceof PyComplex) return "complex";
  if (v instanceof PySlice) return "slice";
  if (v instanceof PyFrozenSet) return "frozenset";
  if (Array.isArray(v)) return "tuple";
  return "object";
}

type Num = { kind: "int"; v: bigint } | { kind: "float"; v: number } | { kind: "complex"; re: number; im: number };

/** A number as Python sees it (bool is an int), or undefined. */
function asNumber(v: unknown): Num | undefined {
  if (typeof v === "boolean") return { kind: "int", v: v ? 1n : 0n };
  if (isPyFloat(v)) return { kind: "float", v: Number(v) };
  if (isPyInt(v)) return { kind: "int", v: BigInt(v) };
  if (v instanceof PyComplex) return { kind: "complex", re: v.real, im: v.imag };
  return undefined;
}

/** Python's `a + b` for the values brine carries. */
export function pyAdd(a: unknown, b: unknown): unknown {
  const x = asNumber(a);
  const y = asNumber(b);
  if (x && y) {
    if (x.kind === "int" && y.kind === "int") {
      const sum = x.v + y.v;
      // a bigint goes as an int whatever its size; a number keeps small results plain
      return sum >= BigInt(Number.MIN_SAFE_INTEGER) && sum <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(sum) : sum;
    }
    if (x.kind === "complex" || y.kind === "complex") {
      const re = (n: Num): number => (n.kind === "complex" ? n.re : Number(n.v));
      const im = (n: Num): number => (n.kind === "complex" ? n.im : 0);
      return new PyComplex(re(x) + re(y), im(x) + im(y));
    }
    // any float makes a float, even when the sum is integral (1.0 + 2 == 3.0)
    return pyFloat(Number(x.v) + Number(y.v));
  }
  if (typeof a === "string") {
    if (typeof b === "string") return a + b;
    throw new PyError("TypeError", [`can only concatenate str (not "${pyTypeName(b)}") to str`]);
  }
  if (a instanceof Uint8Array) {
    if (b instanceof Uint8Array) return Buffer.concat([a, b]);
    throw new PyError("TypeError", [`can't concat ${pyTypeName(b)} to bytes`]);
  }
  if (Array.isArray(a)) {
    if (Array.isArray(b)) return [...a, ...b];
    throw new PyError("TypeError", [`can only concatenate tuple (not "${pyTypeName(b)}") to tuple`]);
  }
  throw new PyError("TypeError", [`unsupported operand type(s) for +: '${pyTypeName(a)}' and '${pyTypeName(b)}'`]);
}

/**
 * The JUDGE service (aliases JUDGE, JUDGE_ALT). A server given this class makes one instance per
 * connection; onConnect keeps the connection for credentials() and live_counters().
 */
export class JudgeService extends Service {
  static override ALIASES = ["JUDGE", "JUDGE_ALT"];

  private conn: Connection | undefined;

  override onConnect(conn: Connection): void {
    this.conn = conn;
    connections.add(conn);
  }

  override onDisconnect(conn: Connection): void {
    connections.delete(conn);
    // its counters are released with it: forget the ones nobody else holds
    liveCounters();
  }

  /** The argument itself: values come back with the same Python type, the caller's objects as its own. */
  exposed_echo(x: unknown): unknown {
    return x;
  }

  /** Python's a + b (int, float, complex, str, bytes, tuple); keyword arguments work (add(a=1, b=2)). */
  exposed_add(a: unknown, b: unknown): unknown {
    return pyAdd(a, b);
  }

  /** Raises ValueError(msg). */
  exposed_fail(msg: unknown): never {
    throw new PyError("ValueError", [msg as string]);
  }

  /** Waits `seconds` (0..20) on a timer, so other calls and connections go on meanwhile; returns seconds. */
  async exposed_slow(seconds: unknown): Promise<unknown> {
    if (!isPyInt(seconds) && !isPyFloat(seconds)) throw new PyError("TypeError", [`slow() seconds must be a number, not ${pyTypeName(seconds)}`]);
    const s = Number(seconds instanceof PyFloat ? seconds.value : seconds);
    if (!(s >= 0 && s <= MAX_SLOW_SECONDS)) throw new PyError("ValueError", [`slow() seconds must be between 0 and ${MAX_SLOW_SECONDS}, not ${String(seconds)}`]);
    await sleep(s * 1000);
    return seconds;
  }

  /**
   * fn(x), called on the client: fn's exception reaches the caller with its own type and args,
   * and fn may call this server again while we wait.
   */
  async exposed_callback(fn: (x: unknown) => Promise<unknown>, x: unknown): Promise<unknown> {
    if (typeof fn !== "function") throw new PyError("TypeError", [`'${pyTypeName(fn)}' object is not callable`]);
    return await fn(x);
  }

  /** A new Counter, by reference. */
  exposed_counter(): Counter {
    const c = new Counter();
    counters.add(c);
    return c;
  }

  /** How many counters any connection still holds: they die on HANDLE_DEL or disconnect. */
  exposed_live_counters(): number {
    return liveCounters();
  }

  /** [0, 1, ..., n-1] by reference: the client sees a Python list proxy (len, [i], iteration). */
  exposed_make_list(n: unknown): number[] {
    if (!isPyInt(n)) throw new PyError("TypeError", [`make_list() n must be an int, not ${pyTypeName(n)}`]);
    const len = Number(n);
    if (len < 0 || len > MAX_LIST_LENGTH) throw new PyError("ValueError", [`make_list() n must be between 0 and ${MAX_LIST_LENGTH}`]);
    return byRef(Array.from({ length: len }, (_, i) => i));
  }

  /** What the authenticator returned, as str; None without an authenticator. */
  exposed_credentials(): string | null {
    const c = this.conn?.config.credentials;
    if (c === null || c === undefined) return null;
    if (c instanceof Uint8Array) return Buffer.from(c).toString("utf8");
    return typeof c === "string" ? c : String(c);
  }

  /** Exists but is not exposed: the client gets AttributeError("cannot access 'internal_secret'"). */
  internal_secret(): string {
    return "never reaches the client";
  }
}
