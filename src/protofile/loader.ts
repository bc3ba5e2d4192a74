// .proto files from disk, as protoc finds them: each given file is named by its path relative to
// the import path that contains it (or looked up in the import paths by that name), imports are
// searched in the import paths in order, and google/protobuf/*.proto not found there come from
// @bufbuild/protobuf's built-in descriptors. Everything is parsed, then linked in dependency order.
import { existsSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import type { DescFile } from "@bufbuild/protobuf";
import * as wkt from "@bufbuild/protobuf/wkt";
import type { ParsedFile } from "./ast.js";
import { protoError } from "./errors.js";
import { link, type Linked, type LinkInput } from "./linker.js";
import { parseProto } from "./parser.js";
import type { Pos } from "./tokenizer.js";

export interface LoadOptions {
  /** The files to load: paths on disk, or names relative to an import path. */
  files: readonly string[];
  /** Where imports are searched, in order (protoc's -I); default: the current directory. */
  importPaths?: readonly string[];
  /** Base of relative paths; default process.cwd(). */
  cwd?: string;
}

export interface LoadedProtos extends Linked {
  /** The names (relative to their import path) of the files asked for. */
  roots: string[];
}

/** google/protobuf/*.proto as @bufbuild/protobuf ships them, by file name. */
const BUILTIN: ReadonlyMap<string, DescFile> = new Map(
  Object.values(wkt)
    .filter((v): v is DescFile => typeof v === "object" && v !== null && (v as { kind?: unknown }).kind === "file")
    .map((f) => [f.proto.name, f]),
);

/** Parses and links `options.files` and everything they import; throws ERR_SB_BAD_PROTO on the first error. */
export function loadProtoFiles(options: LoadOptions): LoadedProtos {
  const cwd = options.cwd ?? process.cwd();
  const importPaths = options.importPaths && options.importPaths.length > 0 ? options.importPaths : ["."];
  const dirs = importPaths.map((p) => path.resolve(cwd, p));
  const shown = `import paths: ${importPaths.join(", ")}`;

  /** The file `name` resolves to in the import paths, if any. */
  const onDisk = (name: string): string | undefined => {
    for (const dir of dirs) {
      const candidate = path.join(dir, ...name.split("/"));
      if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
    }
    return undefined;
  };
  const display = (file: string) => {
    const rel = path.relative(cwd, file);
    return rel.startsWith("..") || path.isAbsolute(rel) ? file : rel;
  };

  const rootNames = options.files.map((given) => {
    const abs = path.resolve(cwd, given);
    if (existsSync(abs) && statSync(abs).isFile()) {
      for (const dir of dirs) {
        const rel = path.relative(dir, abs);
        if (rel.startsWith("..") || path.isAbsolute(rel)) continue;
        const name = rel.split(path.sep).join("/");
        const first = onDisk(name);
        if (first && first !== abs) {
          throw protoError(given, undefined, `Input is shadowed in the import paths by "${display(first)}". Either use the latter file as your input or reorder the import paths so that the former file's location comes first.`);
        }
        return name;
      }
      throw protoError(given, undefined, `File does not reside within any import path (${shown}). Add an import path that contains it.`);
    }
    const name = given.split(path.sep).join("/");
    if (!onDisk(name) && !BUILTIN.has(name)) throw protoError(given, undefined, `File not found (${shown}).`);
    return name;
  });

  const order: LinkInput[] = [];
  const done = new Set<string>();
  const stack: string[] = [];
  const load = (name: string, importer?: { file: ParsedFile; at: Pos }) => {
    if (done.has(name)) return;
    if (stack.includes(name)) {
      const cycle = [...stack.slice(stack.indexOf(name)), name].join(" -> ");
      throw protoError(importer!.file.display, importer!.at, `File recursively imports itself: ${cycle}`);
    }
    const file = onDisk(name);
    const builtin = file ? undefined : BUILTIN.get(name);
    stack.push(name);
    if (file) {
      let source: string;
      try {
        source = readFileSync(file, "utf8");
      } catch (err) {
        throw protoError(display(file), undefined, `cannot read: ${(err as Error).message}`);
      }
      const parsed = parseProto(source, name, display(file));
      parsed.proto.dependency.forEach((dep, i) => load(dep, { file: parsed, at: parsed.importPos[i]! }));
      order.push({ parsed });
    } else if (builtin) {
      for (const dep of builtin.proto.dependency) load(dep);
      order.push({ builtin });
    } else {
      throw protoError(importer!.file.display, importer!.at, `Import "${name}" was not found (${shown}).`);
    }
    stack.pop();
    done.add(name);
  };
  for (const name of rootNames) load(name);
  return { ...link(order), roots: rootNames };
}
