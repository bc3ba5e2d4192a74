/**
 * The HPACK static table, RFC 7541 Appendix A. Index 1 is the first entry; slot 0 of the arrays is unused so that
 * a wire index reads the arrays directly. The strings are made once here, so a decoded static reference costs no
 * allocation.
 */

// prettier-ignore
const ENTRIES: ReadonlyArray<readonly [string, string]> = [
  [":authority", ""],
  [":method", "GET"],
  [":method", "POST"],
  [":path", "/"],
  [":path", "/index.html"],
  [":scheme", "http"],
  [":scheme", "https"],
  [":status", "200"],
  [":status", "204"],
  [":status", "206"],
  [":status", "304"],
  [":status", "400"],
  [":status", "404"],
  [":status", "500"],
  ["accept-charset", ""],
  ["accept-encoding", "gzip, deflate"],
  ["accept-language", ""],
  ["accept-ranges", ""],
  ["accept", ""],
  ["access-control-allow-origin", ""],
  ["age", ""],
  ["allow", ""],
  ["authorization", ""],
  ["cache-control", ""],
  ["content-disposition", ""],
  ["content-encoding", ""],
  ["content-language", ""],
  ["content-length", ""],
  ["content-location", ""],
  ["content-range", ""],
  ["content-type", ""],
  ["cookie", ""],
  ["date", ""],
  ["etag", ""],
  ["expect", ""],
  ["expires", ""],
  ["from", ""],
  ["host", ""],
  ["if-match", ""],
  ["if-modified-since", ""],
  ["if-none-match", ""],
  ["if-range", ""],
  ["if-unmodified-since", ""],
  ["last-modified", ""],
  ["link", ""],
  ["location", ""],
  ["max-forwards", ""],
  ["proxy-authenticate", ""],
  ["proxy-authorization", ""],
  ["range", ""],
  ["referer", ""],
  ["refresh", ""],
  ["retry-after", ""],
  ["server", ""],
  ["set-cookie", ""],
  ["strict-transport-security", ""],
  ["transfer-encoding", ""],
  ["user-agent", ""],
  ["vary", ""],
  ["via", ""],
  ["www-authenticate", ""],
];

/** Number of static entries (61); dynamic indexes start right after. */
export const STATIC_TABLE_LENGTH = ENTRIES.length;

/** STATIC_NAMES[i] / STATIC_VALUES[i] for wire index i in 1..61 (slot 0 unused). */
export const STATIC_NAMES: readonly string[] = ["", ...ENTRIES.map((e) => e[0])];
export const STATIC_VALUES: readonly string[] = ["", ...ENTRIES.map((e) => e[1])];

/**
 * Encoder lookups. For each name: the lowest static index with that name (for "literal with name reference"), and
 * the index of each (name, value) pair the table holds (for the indexed representation).
 */
export interface StaticNameEntry {
  readonly index: number;
  readonly values: ReadonlyMap<string, number>;
}
const byName = new Map<string, { index: number; values: Map<string, number> }>();
for (let i = 1; i <= STATIC_TABLE_LENGTH; i++) {
  const name = STATIC_NAMES[i]!;
  let entry = byName.get(name);
  if (entry === undefined) {
    entry = { index: i, values: new Map() };
    byName.set(name, entry);
  }
  if (!entry.values.has(STATIC_VALUES[i]!)) entry.values.set(STATIC_VALUES[i]!, i);
}
export const STATIC_BY_NAME: ReadonlyMap<string, StaticNameEntry> = byName;
