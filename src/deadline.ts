/** Milliseconds per `grpc-timeout` unit (gRPC over HTTP/2, "Timeout"). */
const UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/** The longest delay a Node timer can hold; longer deadlines are kept but never armed. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Result of parsing `grpc-timeout`: milliseconds, or an error message (returned, not thrown). */
export type ParsedTimeout = { ms: number; error?: undefined } | { ms?: undefined; error: string };

/**
 * Parses a `grpc-timeout` header: 1 to 8 ASCII digits and one unit of H M S m u n.
 * Anything else is an error the caller answers with INTERNAL.
 */
export function parseTimeout(value: string): ParsedTimeout {
  const n = value.length - 1;
  if (n < 1 || n > 8) return { error: `grpc-timeout ${JSON.stringify(value)} must be 1-8 digits and a unit` };
  const unit = UNIT_MS[value[n]!];
  if (unit === undefined) return { error: `grpc-timeout ${JSON.stringify(value)} has an unknown unit` };
  let digits = 0;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return { error: `grpc-timeout ${JSON.stringify(value)} is not a number` };
    digits = digits * 10 + c;
  }
  return { ms: digits * unit };
}

/** Formats milliseconds as a `grpc-timeout` value with at most 8 digits, rounding up. */
export function formatTimeout(ms: number): string {
  const t = Math.max(0, ms);
  // The finest unit whose rounded-up value still fits in 8 digits.
  for (const [unit, perMs] of [["n", 1e6], ["u", 1e3], ["m", 1], ["S", 1e-3], ["M", 1 / 60_000]] as const) {
    const value = Math.ceil(t * perMs);
    if (value < 1e8) return `${value}${unit}`;
  }
  return `${Math.min(99_999_999, Math.ceil(t / 3_600_000))}H`;
}

/** A fixed point in time by which a call must finish (grpclib `Deadline`). */
export class Deadline {
  /** @param at absolute time in `performance.now()` milliseconds */
  constructor(readonly at: number) {}

  /** A deadline `ms` milliseconds from now. */
  static after(ms: number): Deadline {
    return new Deadline(performance.now() + ms);
  }

  /** Milliseconds left, never below zero. */
  timeRemaining(): number {
    return Math.max(0, this.at - performance.now());
  }

  /** The wall-clock time of the deadline. */
  toDate(): Date {
    return new Date(Date.now() + (this.at - performance.now()));
  }

  /** The earlier of two deadlines (either may be absent). */
  static min(a: Deadline | undefined, b: Deadline | undefined): Deadline | undefined {
    if (!a) return b;
    if (!b) return a;
    return a.at <= b.at ? a : b;
  }
}
