// Protocol configuration: rpyc's DEFAULT_CONFIG in camelCase, with rpyc's defaults and units
// (seconds). The attribute policy (allow*) is enforced on the side that owns the object.
import { ErrorCode, SwitchboardError } from "../errors.js";
import type { Logger } from "./logger.js";

export interface ProtocolConfig {
  /** `name` in SAFE_ATTRS (the dunders a Python proxy calls implicitly) may be read. Default true. */
  allowSafeAttrs: boolean;
  /** Names starting with exposedPrefix, and `name` when `exposed_name` exists, may be read. Default true. */
  allowExposedAttrs: boolean;
  /** Any name not starting with "_" may be read. Default false. */
  allowPublicAttrs: boolean;
  /** Every name may be read. Default false. */
  allowAllAttrs: boolean;
  /** Default "exposed_". */
  exposedPrefix: string;
  /** GETATTR (and CALLATTR, CMP) at all. Default true. */
  allowGetattr: boolean;
  /** SETATTR at all (still policy-checked). Default false. */
  allowSetattr: boolean;
  /** DELATTR at all (still policy-checked). Default false. */
  allowDelattr: boolean;
  /** Send the stack with exceptions (else "<traceback denied>"). Default true. */
  includeLocalTraceback: boolean;
  /** Send our version with exceptions (else "<version denied>"). Default true. */
  includeLocalVersion: boolean;
  /** Seconds to wait for the peer's answer to our requests (callbacks). Default 30. */
  syncRequestTimeout: number;
  /** Largest frame accepted, compressed or inflated, in bytes. Default 64 MiB. */
  maxFrameBytes: number;
  /** Runtime: what the authenticator returned (null without one). */
  credentials: unknown;
  /** Runtime: [local, peer] addresses as "host:port" (or the socket path). */
  endpoints: readonly [string, string] | null;
  /** Runtime: a name for the connection, for logs. */
  connid: string | null;
  logger: Logger | null;
}

export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;

export const DEFAULT_CONFIG: Readonly<ProtocolConfig> = Object.freeze({
  allowSafeAttrs: true,
  allowExposedAttrs: true,
  allowPublicAttrs: false,
  allowAllAttrs: false,
  exposedPrefix: "exposed_",
  allowGetattr: true,
  allowSetattr: false,
  allowDelattr: false,
  includeLocalTraceback: true,
  includeLocalVersion: true,
  syncRequestTimeout: 30,
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  credentials: null,
  endpoints: null,
  connid: null,
  logger: null,
});

export function resolveConfig(...parts: ReadonlyArray<Partial<ProtocolConfig> | undefined>): ProtocolConfig {
  const config: ProtocolConfig = { ...DEFAULT_CONFIG };
  for (const part of parts) if (part) for (const [k, v] of Object.entries(part)) if (v !== undefined) (config as unknown as Record<string, unknown>)[k] = v;
  return config;
}

/** rpyc's safe_attrs: the names a Python proxy uses implicitly (len(), x[i], iteration, arithmetic...). */
export const SAFE_ATTRS: ReadonlySet<string> = new Set(
  (
    "__abs__ __add__ __and__ __bool__ __cmp__ __contains__ __delitem__ __delslice__ __div__ __divmod__ __doc__ __enter__ " +
    "__eq__ __exit__ __float__ __floordiv__ __format__ __ge__ __getitem__ __getslice__ __gt__ __hash__ __hex__ __iadd__ " +
    "__iand__ __idiv__ __ifloordiv__ __ilshift__ __imod__ __imul__ __index__ __int__ __invert__ __ior__ __ipow__ " +
    "__irshift__ __isub__ __iter__ __itruediv__ __ixor__ __le__ __len__ __length_hint__ __long__ __lshift__ __lt__ " +
    "__mod__ __mul__ __ne__ __neg__ __new__ __next__ __nonzero__ __oct__ __or__ __pos__ __pow__ __radd__ __rand__ " +
    "__rdiv__ __rdivmod__ __repr__ __rfloordiv__ __rlshift__ __rmod__ __rmul__ __ror__ __rpow__ __rrshift__ __rshift__ " +
    "__rsub__ __rtruediv__ __rxor__ __setitem__ __setslice__ __str__ __sub__ __truediv__ __xor__ next"
  ).split(" "),
);

/** Names a Python proxy handles itself: never listed in an INSPECT reply (rpyc's netref.LOCAL_ATTRS). */
export const LOCAL_ATTRS: ReadonlySet<string> = new Set(
  (
    "____conn__ ____id_pack__ ____refcount__ __array_interface__ __array_struct__ __class__ __cmp__ __del__ __delattr__ " +
    "__dict__ __dir__ __doc__ __eq__ __exit__ __ge__ __getattr__ __getattribute__ __gt__ __hash__ __init__ " +
    "__instancecheck__ __le__ __lt__ __metaclass__ __methods__ __module__ __ne__ __new__ __reduce__ __reduce_ex__ " +
    "__repr__ __setattr__ __slots__ __str__ __weakref__"
  ).split(" "),
);

/** Seconds (rpyc's unit) to milliseconds for timers, refusing what a timer cannot take. */
export function secondsToMs(seconds: number, what: string, { positive = false } = {}): number {
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0 || (positive && seconds === 0)) {
    throw new SwitchboardError(ErrorCode.BAD_OPTION, `${what} must be a finite number of seconds ${positive ? "> 0" : ">= 0"}, got ${String(seconds)}`);
  }
  return seconds * 1000;
}
