// Python exceptions across an RPyC connection (rpyc's vinegar): what our code throws becomes an
// exception record ((module, name), args, attrs, traceback) the peer raises as that type, and a
// record from the peer becomes a PyError here. A PyError keeps module, name and args, so an
// exception a client's callback raised reaches the original caller as the same type.
import { EXC_STOP_ITERATION, RPYC_VERSION } from "./consts.js";
import { isDumpable, type PyValue } from "./values.js";
import { pyRepr } from "./repr.js";

export interface PyErrorOptions {
  /** Defaults to "builtins". */
  module?: string;
  /** Public attributes sent with the exception (name -> value). */
  attrs?: Readonly<Record<string, PyValue>>;
  /** The peer's traceback text, when the error came from the peer. */
  remoteTraceback?: string;
  cause?: unknown;
}

/**
 * A Python exception: `throw new PyError("ValueError", ["bad value"])` makes the client raise
 * `ValueError("bad value")`; `new PyError("NotFound", [id], { module: "inventory" })` arrives as
 * rpyc's GenericException named `inventory.NotFound`.
 */
export class PyError extends Error {
  readonly module: string;
  readonly pyType: string;
  readonly pyArgs: readonly PyValue[];
  readonly attrs: Readonly<Record<string, PyValue>>;
  readonly remoteTraceback: string | undefined;

  constructor(pyType: string, args: readonly PyValue[] = [], options: PyErrorOptions = {}) {
    super(messageOf(args), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = pyType;
    this.pyType = pyType;
    this.module = options.module ?? "builtins";
    this.pyArgs = args;
    this.attrs = options.attrs ?? {};
    this.remoteTraceback = options.remoteTraceback;
  }

  /** "ValueError", or "module.Name" outside builtins. */
  get qualifiedName(): string {
    return this.module === "builtins" ? this.pyType : `${this.module}.${this.pyType}`;
  }
}

/** Python's str() of an exception: the only arg as text, else the args tuple's repr. */
function messageOf(args: readonly PyValue[]): string {
  if (args.length === 0) return "";
  if (args.length === 1) return typeof args[0] === "string" ? args[0] : pyRepr(args[0]);
  return pyRepr(args);
}

/** The exception a JavaScript error stands for: TypeError and RangeError map to their Python kin. */
function pythonTypeOf(err: unknown): { module: string; name: string; args: PyValue[]; attrs: Record<string, PyValue> } {
  if (err instanceof PyError) return { module: err.module, name: err.pyType, args: [...err.pyArgs], attrs: { ...err.attrs } };
  if (err instanceof TypeError) return { module: "builtins", name: "TypeError", args: [err.message], attrs: {} };
  if (err instanceof RangeError) return { module: "builtins", name: "ValueError", args: [err.message], attrs: {} };
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { module: "builtins", name: "Exception", args: [err.message], attrs: typeof code === "string" ? { code } : {} };
  }
  return { module: "builtins", name: "Exception", args: [isDumpable(err) ? (err as PyValue) : String(err)], attrs: {} };
}

/** Python-style traceback text from a JavaScript stack. */
function tracebackOf(err: unknown, qualified: string, message: string): string {
  const stack = err instanceof Error && typeof err.stack === "string" ? err.stack.split("\n").slice(1) : [];
  const frames = stack.map((line) => `  ${line.trim()}\n`).join("");
  return `Traceback (most recent call last):\n${frames}${qualified}${message === "" ? "" : `: ${message}`}\n`;
}

export interface DumpOptions {
  includeLocalTraceback: boolean;
  includeLocalVersion: boolean;
}

/** The exception record for the wire; StopIteration is the bare int 1, as rpyc sends it. */
export function dumpException(err: unknown, options: DumpOptions): PyValue {
  const t = pythonTypeOf(err);
  if (t.name === "StopIteration" && t.module === "builtins") return EXC_STOP_ITERATION;
  const args = t.args.map((a) => (isDumpable(a) ? a : pyRepr(a)));
  const attrs: PyValue[] = [];
  for (const [name, value] of Object.entries(t.attrs)) {
    if (name.startsWith("_")) continue;
    attrs.push([name, isDumpable(value) ? value : pyRepr(value)]);
  }
  attrs.push(["_remote_version", options.includeLocalVersion ? RPYC_VERSION : "<version denied>"]);
  const qualified = t.module === "builtins" ? t.name : `${t.module}.${t.name}`;
  const text = options.includeLocalTraceback
    ? err instanceof PyError && err.remoteTraceback !== undefined
      ? err.remoteTraceback
      : tracebackOf(err, qualified, messageOf(args))
    : "<traceback denied>";
  return [[t.module, t.name], args, attrs, text];
}

/** A PyError from the peer's exception record (a malformed record still yields an error). */
export function loadException(raw: PyValue): PyError {
  if (raw === EXC_STOP_ITERATION) return new PyError("StopIteration");
  if (typeof raw === "string") return new PyError("Exception", [raw]);
  if (Array.isArray(raw) && raw.length >= 4) {
    const [typ, args, attrs, tb] = raw as readonly PyValue[];
    if (Array.isArray(typ) && typ.length === 2 && typeof typ[0] === "string" && typeof typ[1] === "string" && Array.isArray(args)) {
      const attrMap: Record<string, PyValue> = {};
      if (Array.isArray(attrs))
        for (const pair of attrs as readonly PyValue[]) if (Array.isArray(pair) && pair.length === 2 && typeof pair[0] === "string") attrMap[pair[0]] = pair[1] as PyValue;
      return new PyError(typ[1], args as readonly PyValue[], {
        module: typ[0],
        attrs: attrMap,
        ...(typeof tb === "string" ? { remoteTraceback: tb } : {}),
      });
    }
  }
  return new PyError("Exception", [`malformed exception record: ${pyRepr(raw)}`]);
}

/** rpyc's message for a refused attribute. */
export function cannotAccess(name: string): PyError {
  return new PyError("AttributeError", [`cannot access ${pyRepr(name)}`]);
}
