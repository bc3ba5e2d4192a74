// Every name the loaded files declare, and protoc's name lookup over them: relative names are
// searched from the innermost scope outward (the first component decides the scope; a leading
// dot means fully qualified), and only symbols of the file itself, its imports and their public
// imports are visible.
import type { DescriptorProto, EnumDescriptorProto, FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import type { Definition, SymbolKind } from "./ast.js";
import { join } from "./parser.js";
import type { Pos } from "./tokenizer.js";

export interface Sym {
  kind: SymbolKind;
  /** The file declaring it. */
  file: string;
  pos?: Pos;
  message?: DescriptorProto;
  enumType?: EnumDescriptorProto;
}

export type Lookup =
  | { sym: Sym; fullName: string }
  | { sym?: undefined; fullName?: undefined; error: string };

export class SymbolTable {
  private readonly symbols = new Map<string, Sym>();
  /** Package name (and each prefix) -> the files in it. */
  private readonly packages = new Map<string, Set<string>>();
  private readonly files = new Map<string, FileDescriptorProto>();

  /** Adds a file's declarations; returns an error message (and where) for a duplicate. */
  add(proto: FileDescriptorProto, definitions: readonly Definition[] = collectDefinitions(proto)): { message: string; pos?: Pos } | undefined {
    this.files.set(proto.name, proto);
    const messages = new Map<string, DescriptorProto>();
    const enums = new Map<string, EnumDescriptorProto>();
    walk(proto, (fullName, m) => messages.set(fullName, m), (fullName, e) => enums.set(fullName, e));
    for (const d of definitions) {
      if (d.kind === "package") {
        const existing = this.symbols.get(d.fullName);
        if (existing) return { message: `"${d.fullName}" is already defined (as something other than a package) in file "${existing.file}".`, pos: d.pos };
        let set = this.packages.get(d.fullName);
        if (!set) this.packages.set(d.fullName, (set = new Set()));
        set.add(proto.name);
        continue;
      }
      const existing = this.symbols.get(d.fullName);
      if (existing || this.packages.has(d.fullName)) {
        const dot = d.fullName.lastIndexOf(".");
        const name = d.fullName.slice(dot + 1);
        const scope = dot < 0 ? "" : d.fullName.slice(0, dot);
        if (!existing) return { message: `"${d.fullName}" is already defined in file "${[...this.packages.get(d.fullName)!][0]}" as a package.`, pos: d.pos };
        if (existing.file !== proto.name) return { message: `"${d.fullName}" is already defined in file "${existing.file}".`, pos: d.pos };
        if (d.kind === "enum_value" && existing.kind === "enum_value") {
          return { message: `"${name}" is already defined in "${scope}". Note that enum values use C++ scoping rules, meaning that enum values are siblings of their type, not children of it.`, pos: d.pos };
        }
        return { message: scope ? `"${name}" is already defined in "${scope}".` : `"${name}" is already defined.`, pos: d.pos };
      }
      const sym: Sym = { kind: d.kind, file: proto.name, pos: d.pos };
      if (d.kind === "message") sym.message = messages.get(d.fullName);
      if (d.kind === "enum") sym.enumType = enums.get(d.fullName);
      this.symbols.set(d.fullName, sym);
    }
    return undefined;
  }

  file(name: string): FileDescriptorProto | undefined {
    return this.files.get(name);
  }

  /** The file names `file` may use symbols from: itself, its imports and their public imports. */
  visibleFrom(file: string): Set<string> {
    const visible = new Set([file]);
    const addPublic = (name: string) => {
      const f = this.files.get(name);
      for (const i of f?.publicDependency ?? []) {
        const dep = f!.dependency[i]!;
        if (!visible.has(dep)) {
          visible.add(dep);
          addPublic(dep);
        }
      }
    };
    const proto = this.files.get(file);
    for (const dep of proto?.dependency ?? []) {
      visible.add(dep);
      addPublic(dep);
    }
    return visible;
  }

  /**
   * protoc's LookupSymbol: `name` relative to the element `relativeTo` (its full name), or fully
   * qualified with a leading dot. `typesOnly` skips non-type symbols of the same name (a field
   * named like a type does not hide the type).
   */
  lookup(name: string, relativeTo: string, file: string, typesOnly: boolean): Lookup {
    const visible = this.visibleFrom(file);
    let hidden: string | undefined;
    const find = (full: string): Sym | undefined => {
      const sym = this.symbols.get(full);
      if (sym) {
        if (visible.has(sym.file)) return sym;
        hidden ??= sym.file;
        return undefined;
      }
      const pkg = this.packages.get(full);
      if (pkg && this.inPackage(visible, full)) return { kind: "package", file };
      return undefined;
    };
    const notFound = (fullName: string | undefined): Lookup => {
      if (fullName !== undefined) {
        return {
          error: `"${name}" is resolved to "${fullName}", which is not defined. The innermost scope is searched first in name resolution. Consider using a leading '.'(i.e., ".${name}") to start from the outermost scope.`,
        };
      }
      if (hidden) return { error: `"${name}" seems to be defined in "${hidden}", which is not imported by "${file}".  To use it here, please add the necessary import.` };
      return { error: `"${name}" is not defined.` };
    };
    if (name.startsWith(".")) {
      const sym = find(name.slice(1));
      return sym ? { sym, fullName: name.slice(1) } : notFound(undefined);
    }
    const firstDot = name.indexOf(".");
    const first = firstDot < 0 ? name : name.slice(0, firstDot);
    let scope = relativeTo;
    for (;;) {
      const dot = scope.lastIndexOf(".");
      if (dot < 0) {
        const sym = find(name);
        return sym ? { sym, fullName: name } : notFound(undefined);
      }
      scope = scope.slice(0, dot);
      const candidate = find(join(scope, first));
      if (!candidate) continue;
      if (firstDot >= 0) {
        // Only the first part was found: the rest must be inside it, or the name is undefined.
        if (!isAggregate(candidate.kind)) continue;
        const full = join(scope, name);
        const sym = find(full);
        return sym ? { sym, fullName: full } : notFound(full);
      }
      if (typesOnly && candidate.kind !== "message" && candidate.kind !== "enum") continue;
      return { sym: candidate, fullName: join(scope, name) };
    }
  }

  private inPackage(visible: Set<string>, pkg: string): boolean {
    for (const f of visible) {
      const p = this.files.get(f)?.package ?? "";
      if (p === pkg || p.startsWith(`${pkg}.`)) return true;
    }
    return false;
  }
}

function isAggregate(kind: SymbolKind): boolean {
  return kind === "message" || kind === "enum" || kind === "package" || kind === "service";
}

function walk(proto: FileDescriptorProto, onMessage: (fullName: string, m: DescriptorProto) => void, onEnum: (fullName: string, e: EnumDescriptorProto) => void): void {
  const visit = (scope: string, messages: readonly DescriptorProto[], enums: readonly EnumDescriptorProto[]) => {
    for (const e of enums) onEnum(join(scope, e.name), e);
    for (const m of messages) {
      const name = join(scope, m.name);
      onMessage(name, m);
      visit(name, m.nestedType, m.enumType);
    }
  };
  visit(proto.package, proto.messageType, proto.enumType);
}

/** The declarations of a file known only as a descriptor (a built-in well-known file). */
export function collectDefinitions(proto: FileDescriptorProto): Definition[] {
  const out: Definition[] = [];
  const at = { line: 0, col: 0 };
  const add = (fullName: string, kind: SymbolKind) => out.push({ fullName, kind, pos: at });
  if (proto.package) {
    const parts = proto.package.split(".");
    for (let i = 1; i <= parts.length; i++) add(parts.slice(0, i).join("."), "package");
  }
  const visit = (scope: string, messages: readonly DescriptorProto[], enums: readonly EnumDescriptorProto[], extensions: readonly { name: string }[]) => {
    for (const e of enums) {
      add(join(scope, e.name), "enum");
      for (const v of e.value) add(join(scope, v.name), "enum_value");
    }
    for (const x of extensions) add(join(scope, x.name), "extension");
    for (const m of messages) {
      const name = join(scope, m.name);
      add(name, "message");
      for (const f of m.field) add(join(name, f.name), "field");
      for (const o of m.oneofDecl) add(join(name, o.name), "oneof");
      visit(name, m.nestedType, m.enumType, m.extension);
    }
  };
  visit(proto.package, proto.messageType, proto.enumType, proto.extension);
  for (const s of proto.service) {
    add(join(proto.package, s.name), "service");
    for (const m of s.method) add(join(proto.package, `${s.name}.${m.name}`), "method");
  }
  return out;
}
