// How deeply a JSON text nests, checked on the bytes before JSON.parse: V8 parses any depth,
// but a 4 MiB message of nested arrays costs it about 1.5 s of CPU (measured on Node 20),
// which would stall every other client. A text with no more opening brackets than the limit
// cannot nest deeper, and counting them is a native byte search, so ordinary messages skip
// the byte-by-byte scan.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;

/** Whether `bytes` holds at most `limit` opening brackets (inside strings or not). */
function fewOpenings(bytes: Uint8Array, limit: number): boolean {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let count = 0;
  for (const byte of [OPEN_ARRAY, OPEN_OBJECT]) {
    for (let at = buf.indexOf(byte); at >= 0; at = buf.indexOf(byte, at + 1)) if (++count > limit) return false;
  }
  return true;
}

/** Whether the JSON text in `bytes` nests arrays and objects more than `maxDepth` deep. */
export function nestsDeeperThan(bytes: Uint8Array, maxDepth: number): boolean {
  if (bytes.length <= maxDepth || fewOpenings(bytes, maxDepth)) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > maxDepth) return true;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--;
  }
  return false;
}
