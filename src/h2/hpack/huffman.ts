import { HpackError } from "./errors.js";
import { EOS, HUFFMAN_CODES, HUFFMAN_LENGTHS } from "./huffman-table.js";

/*
 * Huffman coding of string literals (RFC 7541 section 5.2, code in Appendix B).
 *
 * Decoding walks a state machine one input octet at a time instead of one bit at a time. The states are the 256
 * internal nodes of the code tree (state 0 = root, nothing pending). DECODE[state * 256 + octet] packs what
 * feeding those 8 bits from that node yields:
 *   bits 0-7   the node reached afterwards
 *   bits 8-15  first symbol completed (if any)
 *   bits 16-23 second symbol completed (if any; the shortest code is 5 bits, so 8 bits end at most 2 codes)
 *   bits 24-25 number of symbols completed
 *   bit  26    the EOS code was completed: a decoding error (section 5.2)
 * Everything stays below 2^31 so the values are small integers for the engine.
 *
 * Padding (section 5.2) is the bits after the last complete code: at most 7, all ones (a prefix of EOS). So a
 * string may end only in a node reached from the root by at most 7 one-bits; END[state] tells which case a node is.
 */

const STATE_BITS = 8;
const COUNT_SHIFT = 24;
const FAIL = 1 << 26;

/** END[state]: 0 = a string may end here; 1 = the padding would be longer than 7 bits; 2 = padding not all ones. */
const END_OK = 0;
const END_TOO_LONG = 1;
const END_NOT_EOS = 2;

const DECODE = new Int32Array(256 * 256);
const END = new Uint8Array(256);

function buildDecoder(): void {
  // children[node * 2 + bit]: >= 0 an internal node, < 0 a leaf holding symbol ~value.
  const children = new Int32Array(256 * 2).fill(0x7fffffff);
  const depth = new Uint8Array(256);
  const allOnes = new Uint8Array(256);
  allOnes[0] = 1;
  let nodes = 1;
  for (let sym = 0; sym <= EOS; sym++) {
    const code = HUFFMAN_CODES[sym]!;
    const len = HUFFMAN_LENGTHS[sym]!;
    let node = 0;
    for (let i = len - 1; i >= 0; i--) {
      const bit = (code >>> i) & 1;
      const slot = node * 2 + bit;
      if (i === 0) {
        if (children[slot] !== 0x7fffffff) throw new Error(`Huffman table: code of symbol ${sym} is not prefix-free`);
        children[slot] = ~sym;
      } else {
        let next = children[slot]!;
        if (next === 0x7fffffff) {
          if (nodes === 256) throw new Error("Huffman table: more than 256 internal nodes");
          next = nodes++;
          children[slot] = next;
          depth[next] = depth[node]! + 1;
          allOnes[next] = allOnes[node]! & bit;
        } else if (next < 0) {
          throw new Error(`Huffman table: code of symbol ${sym} extends the code of symbol ${~next}`);
        }
        node = next;
      }
    }
  }
  if (nodes !== 256 || children.includes(0x7fffffff)) throw new Error("Huffman table: not a complete code");
  for (let state = 0; state < 256; state++) {
    END[state] = !allOnes[state] ? END_NOT_EOS : depth[state]! > 7 ? END_TOO_LONG : END_OK;
    for (let octet = 0; octet < 256; octet++) {
      let node = state;
      let count = 0;
      let syms = 0;
      let fail = 0;
      for (let i = 7; i >= 0; i--) {
        const child = children[node * 2 + ((octet >>> i) & 1)]!;
        if (child >= 0) {
          node = child;
          continue;
        }
        const sym = ~child;
        node = 0;
        if (sym === EOS) {
          fail = FAIL;
          break;
        }
        syms |= sym << (8 + 8 * count);
        count++;
      }
      DECODE[(state << STATE_BITS) | octet] = node | syms | (count << COUNT_SHIFT) | fail;
    }
  }
}
buildDecoder();

/**
 * Room huffmanDecode needs for `encodedLength` octets: every code is at least 5 bits, plus one octet because each
 * step stores two octets and then advances by the number it decoded (0, 1 or 2), which avoids a hard-to-predict
 * branch per input octet.
 */
export function maxDecodedLength(encodedLength: number): number {
  return Math.ceil((encodedLength * 8) / 5) + 1;
}

/**
 * Decodes buf[start..end) into out at outStart (room for maxDecodedLength(end - start) octets) and returns the
 * decoded length. Throws HpackError for an EOS code inside the string and for invalid padding.
 */
export function huffmanDecode(buf: Uint8Array, start: number, end: number, out: Uint8Array, outStart = 0): number {
  let state = 0;
  let n = outStart;
  for (let i = start; i < end; i++) {
    const t = DECODE[(state << STATE_BITS) | buf[i]!]!;
    // FAIL is the highest bit in use, so any entry at or above it failed.
    if (t >= FAIL) throw new HpackError("Huffman-coded string contains the EOS symbol", i);
    // Uint8Array stores keep the low 8 bits: symbol 1 then symbol 2, of which `count` are real.
    out[n] = t >>> 8;
    out[n + 1] = t >>> 16;
    n += t >>> COUNT_SHIFT;
    state = t & 0xff;
  }
  checkPadding(state, end);
  return n - outStart;
}

/** Same checks as huffmanDecode, counting the decoded octets without writing them. */
export function huffmanDecodedLength(buf: Uint8Array, start: number, end: number): number {
  let state = 0;
  let n = 0;
  for (let i = start; i < end; i++) {
    const t = DECODE[(state << STATE_BITS) | buf[i]!]!;
    if (t >= FAIL) throw new HpackError("Huffman-coded string contains the EOS symbol", i);
    n += t >>> COUNT_SHIFT;
    state = t & 0xff;
  }
  checkPadding(state, end);
  return n;
}

/** 5.2: the string must end on a state the EOS prefix reaches in at most 7 bits. */
function checkPadding(state: number, end: number): void {
  const endKind = END[state]!;
  if (endKind === END_OK) return;
  throw new HpackError(
    endKind === END_TOO_LONG ? "Huffman padding longer than 7 bits" : "Huffman padding is not the most significant bits of EOS",
    end - 1,
  );
}

const CODES = Int32Array.from(HUFFMAN_CODES.slice(0, 256));
const LENGTHS = Uint8Array.from(HUFFMAN_LENGTHS.slice(0, 256));

/**
 * Length in octets of the Huffman coding of `str` (latin1: one char per octet). Throws TypeError for a char above
 * U+00FF, which no header octet can be.
 */
export function huffmanEncodedLength(str: string): number {
  let bits = 0;
  for (let i = 0; i < str.length; i++) {
    const c = str.charCodeAt(i);
    if (c > 0xff) throw new TypeError(`header text is not latin1 (U+${c.toString(16)} at ${i})`);
    bits += LENGTHS[c]!;
  }
  return (bits + 7) >>> 3;
}

/** Writes the Huffman coding of `str` at out[pos] (room for huffmanEncodedLength(str)); returns the end offset. */
export function huffmanEncode(str: string, out: Uint8Array, pos: number): number {
  // acc holds `pending` (< 8) bits not yet written; codes over 24 bits are fed in two parts so that
  // pending + length stays within 31 bits.
  let acc = 0;
  let pending = 0;
  for (let i = 0; i < str.length; i++) {
    const c = str.charCodeAt(i) & 0xff;
    let code = CODES[c]!;
    let len = LENGTHS[c]!;
    if (len > 24) {
      acc = (acc << (len - 8)) | (code >>> 8);
      pending += len - 8;
      while (pending >= 8) {
        pending -= 8;
        out[pos++] = (acc >>> pending) & 0xff;
      }
      acc &= (1 << pending) - 1;
      code &= 0xff;
      len = 8;
    }
    acc = (acc << len) | code;
    pending += len;
    while (pending >= 8) {
      pending -= 8;
      out[pos++] = (acc >>> pending) & 0xff;
    }
    acc &= (1 << pending) - 1;
  }
  // Pad with the most significant bits of EOS (all ones).
  if (pending > 0) out[pos++] = ((acc << (8 - pending)) | (0xff >>> pending)) & 0xff;
  return pos;
}
