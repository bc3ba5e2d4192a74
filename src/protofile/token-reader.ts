// The parser's view of the token stream: one token of lookahead, the "expect this" helpers
// with protoc's error wording, and the literals statements read (names, strings, integers in
// decimal, hex or octal, option values with `{...}` aggregates).
import type { OptionValue } from "./ast.js";
import { protoError } from "./errors.js";
import { Tokenizer, type Pos, type Token } from "./tokenizer.js";

const INT32_MAX = 2_147_483_647;

export class TokenReader {
  protected tok: Token;
  private readonly tokens: Tokenizer;

  constructor(
    source: string,
    /** How errors name the file. */
    protected readonly display: string,
  ) {
    this.tokens = new Tokenizer(source, display);
    this.tok = this.tokens.next();
  }

  /** An option's value: identifier, number (maybe negative), string(s), or a `{...}` aggregate. */
  protected optionValue(forDefault: boolean): OptionValue {
    const pos: Pos = this.tok;
    const negative = this.tryConsume("-");
    const t = this.tok;
    switch (t.kind) {
      case "ident":
        if (negative && t.text !== "inf" && t.text !== "nan") this.fail(t, "Identifier after '-' symbol must be inf or nan.");
        this.next();
        return { kind: "ident", text: t.text, negative, pos };
      case "int":
        this.next();
        return { kind: "int", value: parseInteger(t.text), negative, pos };
      case "float":
        this.next();
        return { kind: "float", value: Number(t.text), negative, pos };
      case "string": {
        if (negative) this.fail(pos, "Invalid '-' symbol before string.");
        const parts: Uint8Array[] = [];
        while (this.tok.kind === "string") parts.push(this.next().bytes!);
        return { kind: "string", bytes: concat(parts), pos };
      }
      default:
        if (!forDefault && t.text === "{" && !negative) return { kind: "aggregate", text: this.aggregate(), pos };
        return this.fail(t, forDefault ? "Expected a default value." : "Expected option value.");
    }
  }

  /** The tokens of `{ ... }` joined by spaces (comments dropped), as protoc hands them to its text format parser. */
  protected aggregate(): string {
    this.expect("{");
    const out: string[] = [];
    let depth = 1;
    let glue = false;
    for (;;) {
      const t = this.next();
      if (t.kind === "eof") this.fail(t, "Unexpected end of stream while parsing aggregate value.");
      if (t.text === "{" && t.kind === "symbol") depth++;
      if (t.text === "}" && t.kind === "symbol" && --depth === 0) break;
      // "-inf" must stay glued for the text format reader.
      out.push(glue || out.length === 0 ? t.text : ` ${t.text}`);
      glue = t.kind === "symbol" && t.text === "-";
    }
    return out.join("");
  }

  /** A method, not a property test: TypeScript would keep a narrowed `this.tok` across next(). */
  protected atEnd(): boolean {
    return this.tok.kind === "eof";
  }

  protected at(text: string): boolean {
    return (this.tok.kind === "ident" || this.tok.kind === "symbol") && this.tok.text === text;
  }

  protected next(): Token {
    const t = this.tok;
    this.tok = this.tokens.next();
    return t;
  }

  protected tryConsume(text: string): boolean {
    if (!this.at(text)) return false;
    this.next();
    return true;
  }

  protected expect(text: string): Token {
    if (!this.at(text)) this.fail(this.tok, `Expected "${text}".`);
    return this.next();
  }

  protected identifier(what: string): Token {
    if (this.tok.kind !== "ident") this.fail(this.tok, `Expected ${what}.`);
    return this.next();
  }

  /** `a.b.c` */
  protected dottedName(what: string): string {
    let name = this.identifier(what).text;
    while (this.tryConsume(".")) name += `.${this.identifier(what).text}`;
    return name;
  }

  /** `.a.b.C` or `a.b.C`, as written. */
  protected typeName(what: string): string {
    const lead = this.tryConsume(".") ? "." : "";
    return lead + this.dottedName(what);
  }

  protected string(what: string): string {
    if (this.tok.kind !== "string") this.fail(this.tok, `Expected ${what}.`);
    const parts: Uint8Array[] = [];
    while (this.tok.kind === "string") parts.push(this.next().bytes!);
    return new TextDecoder().decode(concat(parts));
  }

  protected fieldNumber(): number {
    if (this.tok.kind !== "int") this.fail(this.tok, "Expected field number.");
    const t = this.next();
    const value = parseInteger(t.text);
    if (value > BigInt(INT32_MAX)) this.fail(t, "Integer out of range.");
    return Number(value);
  }

  /** An int32 (a leading '-' allowed when `signed`). */
  protected integer(signed: boolean, what: string): number {
    const at = this.tok;
    const negative = signed && this.tryConsume("-");
    if (this.tok.kind !== "int") this.fail(this.tok, `Expected ${what}.`);
    const value = parseInteger(this.next().text);
    if (value > BigInt(INT32_MAX) + (negative ? 1n : 0n)) this.fail(at, "Integer out of range.");
    return Number(negative ? -value : value);
  }

  protected fail(at: Pos, message: string): never {
    throw protoError(this.display, at, message);
  }
}

/** Decimal, 0x hex or 0 octal, as protoc's tokenizer reads integers. */
export function parseInteger(text: string): bigint {
  if (/^0[xX]/.test(text)) return BigInt(text);
  if (text.length > 1 && text[0] === "0") return BigInt(`0o${text.slice(1)}`);
  return BigInt(text);
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
