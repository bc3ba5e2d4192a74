// Parameter names of a JavaScript function, for binding named JSON-RPC params by name. JS
// exposes only `fn.length` (which stops at the first default), so the names come from an
// explicit declaration or, failing that, from the function's source text.

/** One declared parameter. */
export interface ParamSpec {
  readonly name: string;
  /** Has a default value (or was declared "name?"): may be left out. */
  readonly optional: boolean;
  /** A rest parameter ("...name"): takes any number of positional arguments. */
  readonly rest: boolean;
}

/**
 * Reads an explicit declaration: "a" (required), "b?" (optional), "...rest".
 * Returns an error message for a malformed list.
 */
export function declaredParams(names: readonly string[]): ParamSpec[] | string {
  const specs: ParamSpec[] = [];
  const seen = new Set<string>();
  for (const [i, raw] of names.entries()) {
    const rest = raw.startsWith("...");
    const optional = !rest && raw.endsWith("?");
    const name = rest ? raw.slice(3) : optional ? raw.slice(0, -1) : raw;
    if (!/^[\p{L}\p{Nl}$_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}$_\u200c\u200d]*$/u.test(name)) return `parameter ${JSON.stringify(raw)} is not a valid name`;
    if (rest && i !== names.length - 1) return `rest parameter ${JSON.stringify(raw)} must be last`;
    if (seen.has(name)) return `parameter ${JSON.stringify(name)} is declared twice`;
    seen.add(name);
    specs.push({ name, optional, rest });
  }
  return specs;
}

/**
 * The parameters of `fn` read from its source: plain, async and arrow functions and methods,
 * with default values. Returns `undefined` when the names cannot be known (native or bound
 * functions, destructured parameters); the caller then binds positional params only.
 */
export function inferParams(fn: Function): ParamSpec[] | undefined {
  let source: string;
  try {
    source = Function.prototype.toString.call(fn);
  } catch {
    return undefined;
  }
  if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) return undefined;
  const text = stripComments(source);
  // a lone arrow parameter without parentheses: `x => ...`, `async x => ...`
  const bare = /^\s*(?:async\s+)?([\p{L}\p{Nl}$_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}$_]*)\s*=>/u.exec(text);
  if (bare && bare[1] !== "async") return [{ name: bare[1]!, optional: false, rest: false }];
  const open = text.indexOf("(");
  if (open < 0) return undefined;
  const close = matchingParen(text, open);
  if (close < 0) return undefined;
  const specs: ParamSpec[] = [];
  for (const part of splitTopLevel(text.slice(open + 1, close))) {
    const trimmed = part.trim();
    if (trimmed === "") continue; // trailing comma
    const m = /^(\.\.\.)?\s*([\p{L}\p{Nl}$_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}$_\u200c\u200d]*)\s*(=)?/u.exec(trimmed);
    if (!m) return undefined; // destructuring: no single name to bind
    specs.push({ name: m[2]!, optional: m[3] !== undefined, rest: m[1] !== undefined });
  }
  return specs;
}

/** Removes comments, leaving string and template literals intact. */
function stripComments(text: string): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"' || c === "'" || c === "`") {
      const end = skipString(text, i);
      out += text.slice(i, end);
      i = end;
    } else if (c === "/" && text[i + 1] === "/") {
      const nl = text.indexOf("\n", i);
      i = nl < 0 ? text.length : nl;
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      i = end < 0 ? text.length : end + 2;
      out += " ";
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Index just past the string literal starting at `start`. */
function skipString(text: string, start: number): number {
  const quote = text[start];
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === "\\") i += 2;
    else if (c === quote) return i + 1;
    else i++;
  }
  return text.length;
}

function matchingParen(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"' || c === "'" || c === "`") {
      i = skipString(text, i) - 1;
    } else if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") {
      depth--;
      if (depth === 0) return c === ")" ? i : -1;
    }
  }
  return -1;
}

/** Splits a parameter list at commas that are not inside brackets or strings. */
function splitTopLevel(list: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    const c = list[i]!;
    if (c === '"' || c === "'" || c === "`") i = skipString(list, i) - 1;
    else if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") depth--;
    else if (c === "," && depth === 0) {
      parts.push(list.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(list.slice(start));
  return parts;
}

/**
 * Binds params to an argument list, or returns why they do not fit. Without known names,
 * positional params pass through as they are and named params cannot be bound.
 */
export function bindParams(specs: readonly ParamSpec[] | undefined, params: unknown): unknown[] | string {
  if (params === undefined) params = [];
  if (Array.isArray(params)) {
    if (!specs) return params;
    const rest = specs.length > 0 && specs[specs.length - 1]!.rest;
    const fixed = rest ? specs.length - 1 : specs.length;
    if (!rest && params.length > fixed) return `expected at most ${fixed} argument${fixed === 1 ? "" : "s"}, got ${params.length}`;
    for (let i = params.length; i < fixed; i++) if (!specs[i]!.optional) return `missing argument ${JSON.stringify(specs[i]!.name)}`;
    return params;
  }
  const named = params as Record<string, unknown>;
  if (!specs) return "named params are not supported by this method (its parameter names are unknown)";
  const known = new Set(specs.filter((s) => !s.rest).map((s) => s.name));
  for (const key of Object.keys(named)) if (!known.has(key)) return `unknown argument ${JSON.stringify(key)}`;
  const args: unknown[] = [];
  let last = -1;
  for (const [i, spec] of specs.entries()) {
    if (spec.rest) break;
    if (Object.hasOwn(named, spec.name)) {
      args[i] = named[spec.name];
      last = i;
    } else if (!spec.optional) return `missing argument ${JSON.stringify(spec.name)}`;
    else args[i] = undefined; // undefined lets the default value apply
  }
  args.length = last + 1;
  return args;
}
