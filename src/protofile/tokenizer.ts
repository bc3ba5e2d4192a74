// The tokens of a .proto file, as protoc's tokenizer reads them: identifiers, integers (decimal,
// octal, hex), floats, string literals (with C escapes, decoded to bytes), and single-character
// symbols. Comments and whitespace separate tokens. Positions are 1-based lines and columns,
// with tabs advancing to the next multiple of 8 as protoc counts them, so error positions match.
import { protoError } from "./errors.js";

export type TokenKind = "ident" | "int" | "float" | "string" | "symbol" | "eof";

export interface Pos {
  line: number;
  col: number;
}

export interface Token extends Pos {
  kind: TokenKind;
  /** The token as written (for a string: with its quotes). */
  text: string;
  /** A string literal's decoded bytes. */
  bytes?: Uint8Array;
}

const encoder = new TextEncoder();

export class Tokenizer {
  private i = 0;
  private line = 1;
  private col = 1;

  constructor(
    private readonly src: string,
    private readonly file: string,
  ) {}

  /** The next token; `eof` at the end (and on every call after). */
  next(): Token {
    this.skipSpaceAndComments();
    const start: Pos = { line: this.line, col: this.col };
    if (this.i >= this.src.length) return { kind: "eof", text: "", ...start };
    const c = this.src[this.i]!;
    if (isLetter(c)) {
      const from = this.i;
      while (this.i < this.src.length && isAlnum(this.src[this.i]!)) this.advance();
      return { kind: "ident", text: this.src.slice(from, this.i), ...start };
    }
    if (isDigit(c) || (c === "." && isDigit(this.src[this.i + 1] ?? ""))) return this.number(start);
    if (c === '"' || c === "'") return this.string(start);
    this.advance();
    return { kind: "symbol", text: c, ...start };
  }

  private number(start: Pos): Token {
    const from = this.i;
    let kind: TokenKind = "int";
    const src = this.src;
    if (src[this.i] === "0" && (src[this.i + 1] === "x" || src[this.i + 1] === "X")) {
      this.advance();
      this.advance();
      if (!isHex(src[this.i] ?? "")) this.fail(start, '"0x" must be followed by hex digits.');
      while (isHex(src[this.i] ?? "")) this.advance();
    } else {
      while (isDigit(src[this.i] ?? "")) this.advance();
      if (src[this.i] === ".") {
        kind = "float";
        this.advance();
        while (isDigit(src[this.i] ?? "")) this.advance();
      }
      if (src[this.i] === "e" || src[this.i] === "E") {
        kind = "float";
        this.advance();
        if (src[this.i] === "+" || src[this.i] === "-") this.advance();
        if (!isDigit(src[this.i] ?? "")) this.fail(start, '"e" must be followed by exponent.');
        while (isDigit(src[this.i] ?? "")) this.advance();
      }
      const text = src.slice(from, this.i);
      if (kind === "int" && text.length > 1 && text[0] === "0" && !/^0[0-7]+$/.test(text)) this.fail(start, "Numbers starting with leading zero must be in octal.");
    }
    if (isAlnum(src[this.i] ?? "") || src[this.i] === ".") this.fail({ line: this.line, col: this.col }, "Need space between number and identifier.");
    return { kind, text: src.slice(from, this.i), ...start };
  }

  private string(start: Pos): Token {
    const quote = this.src[this.i]!;
    const from = this.i;
    this.advance();
    const bytes: number[] = [];
    const pushText = (s: string) => {
      for (const b of encoder.encode(s)) bytes.push(b);
    };
    for (;;) {
      const c = this.src[this.i];
      if (c === undefined) this.fail(start, "Unexpected end of string.");
      if (c === "\n") this.fail(start, "String literals cannot cross line boundaries.");
      if (c === quote) {
        this.advance();
        break;
      }
      if (c !== "\\") {
        // One code point (a surrogate pair stays together) as UTF-8.
        const cp = this.src.codePointAt(this.i)!;
        const s = String.fromCodePoint(cp);
        for (let k = 0; k < s.length; k++) this.advance();
        pushText(s);
        continue;
      }
      this.advance();
      // protoc points at the character after the backslash.
      const escapeAt: Pos = { line: this.line, col: this.col };
      const e = this.src[this.i] ?? "";
      const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, "\\": 92, "?": 63, "'": 39, '"': 34 };
      if (e in simple) {
        this.advance();
        bytes.push(simple[e]!);
      } else if (/[0-7]/.test(e)) {
        let v = 0;
        for (let k = 0; k < 3 && /[0-7]/.test(this.src[this.i] ?? ""); k++) {
          v = v * 8 + Number(this.src[this.i]);
          this.advance();
        }
        bytes.push(v & 0xff);
      } else if (e === "x" || e === "X") {
        this.advance();
        let digits = "";
        while (digits.length < 2 && isHex(this.src[this.i] ?? "")) {
          digits += this.src[this.i];
          this.advance();
        }
        if (!digits) this.fail(escapeAt, "Expected hex digits for escape sequence.");
        bytes.push(parseInt(digits, 16));
      } else if (e === "u" || e === "U") {
        this.advance();
        let cp = this.hexDigits(e === "u" ? 4 : 8, escapeAt);
        // A UTF-16 surrogate pair written as two \u escapes is one code point.
        if (cp >= 0xd800 && cp <= 0xdbff && this.src.startsWith("\\u", this.i)) {
          const save = { i: this.i, line: this.line, col: this.col };
          this.advance();
          this.advance();
          const low = this.hexDigits(4, escapeAt);
          if (low >= 0xdc00 && low <= 0xdfff) cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          else Object.assign(this, save);
        }
        if (cp > 0x10ffff) this.fail(escapeAt, "Expected eight hex digits up to 10ffff for \\U escape sequence");
        pushText(cp >= 0xd800 && cp <= 0xdfff ? "\ufffd" : String.fromCodePoint(cp));
      } else {
        this.fail(escapeAt, "Invalid escape sequence in string literal.");
      }
    }
    return { kind: "string", text: this.src.slice(from, this.i), bytes: Uint8Array.from(bytes), ...start };
  }

  private hexDigits(n: number, at: Pos): number {
    const digits = this.src.slice(this.i, this.i + n);
    if (digits.length !== n || !/^[0-9a-fA-F]+$/.test(digits)) this.fail(at, `Expected ${n === 4 ? "four" : "eight"} hex digits for \\${n === 4 ? "u" : "U"} escape sequence.`);
    for (let k = 0; k < n; k++) this.advance();
    return parseInt(digits, 16);
  }

  private skipSpaceAndComments(): void {
    const src = this.src;
    for (;;) {
      const c = src[this.i];
      if (c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\v" || c === "\f") {
        this.advance();
      } else if (c === "/" && src[this.i + 1] === "/") {
        while (this.i < src.length && src[this.i] !== "\n") this.advance();
      } else if (c === "/" && src[this.i + 1] === "*") {
        const start: Pos = { line: this.line, col: this.col };
        this.advance();
        this.advance();
        while (this.i < src.length && !(src[this.i] === "*" && src[this.i + 1] === "/")) this.advance();
        if (this.i >= src.length) this.fail(start, "End-of-file inside block comment.");
        this.advance();
        this.advance();
      } else {
        return;
      }
    }
  }

  private advance(): void {
    const c = this.src[this.i++];
    if (c === "\n") {
      this.line++;
      this.col = 1;
    } else if (c === "\t") {
      this.col += 8 - ((this.col - 1) % 8);
    } else {
      this.col++;
    }
  }

  private fail(at: Pos, message: string): never {
    throw protoError(this.file, at, message);
  }
}

function isLetter(c: string): boolean {
  return (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "_";
}

function isDigit(c: string): boolean {
  return c >= "0" && c <= "9";
}

function isAlnum(c: string): boolean {
  return isLetter(c) || isDigit(c);
}

function isHex(c: string): boolean {
  return isDigit(c) || (c >= "a" && c <= "f") || (c >= "A" && c <= "F");
}
