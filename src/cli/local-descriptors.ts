// Descriptors from local files instead of server reflection, as grpcurl's -proto / -import-path
// and -protoset: .proto sources parsed by src/protofile, or binary FileDescriptorSets made by
// `protoc --descriptor_set_out --include_imports` or `buf build -o x.binpb`.
import { readFileSync } from "node:fs";
import { create, createFileRegistry, fromBinary, type AnyDesc, type DescMessage, type FileRegistry, type Registry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { ErrorCode, SwitchboardError } from "../errors.js";
import { loadProtoFiles } from "../protofile/index.js";
import { WELL_KNOWN_FILES } from "../services/reflection/index-files.js";
import { findInRegistry, type DescriptorSource } from "./descriptor-source.js";
import { usageError } from "./options.js";

/** The values parseArgs gives for DESCRIPTOR_OPTIONS. */
export interface DescriptorFileValues {
  proto?: string[];
  "import-path"?: string[];
  protoset?: string[];
}

export const DESCRIPTOR_OPTIONS = {
  proto: { type: "string", multiple: true },
  "import-path": { type: "string", short: "I", multiple: true },
  protoset: { type: "string", multiple: true },
} as const;

export const DESCRIPTOR_HELP = `schema options (instead of server reflection; the server is not asked):
  --proto FILE               a .proto file (repeatable), found as protoc does: a path inside an
                             --import-path, or a name relative to one
  -I, --import-path DIR      where .proto files and their imports are found (repeatable; default
                             .); google/protobuf/*.proto are built in
  --protoset FILE            a binary FileDescriptorSet (repeatable), as made by protoc
                             --descriptor_set_out --include_imports or buf build -o FILE.binpb`;

/** Descriptors from --proto or --protoset, or undefined when neither is given (use reflection). */
export function localDescriptors(values: DescriptorFileValues): LocalDescriptors | undefined {
  const protos = values.proto ?? [];
  const protosets = values.protoset ?? [];
  const importPaths = values["import-path"] ?? [];
  if (protos.length > 0 && protosets.length > 0) throw usageError("use either --proto or --protoset, not both");
  if (importPaths.length > 0 && protos.length === 0) throw usageError("--import-path is only used with --proto");
  if (protos.length > 0) return new LocalDescriptors(loadProtoFiles({ files: protos, importPaths }).registry, "the --proto files");
  if (protosets.length > 0) return new LocalDescriptors(readProtosets(protosets), "the --protoset files");
  return undefined;
}

export class LocalDescriptors implements DescriptorSource {
  constructor(
    readonly registry: FileRegistry,
    private readonly origin: string,
  ) {}

  async listServices(): Promise<string[]> {
    const names: string[] = [];
    for (const desc of this.registry) if (desc.kind === "service") names.push(desc.typeName);
    return names;
  }

  async lookup(symbol: string): Promise<AnyDesc> {
    const name = symbol.replace(/^\./, "");
    const found = findInRegistry(this.registry, name);
    if (!found) throw new SwitchboardError(ErrorCode.UNKNOWN_SYMBOL, `symbol ${JSON.stringify(name)} not found in ${this.origin}`);
    return found;
  }

  async registryFor(): Promise<Registry> {
    return this.registry;
  }

  async message(typeName: string): Promise<DescMessage | undefined> {
    return this.registry.getMessage(typeName);
  }

  release(): void {
    // Nothing is held open.
  }
}

/** The files of every --protoset (first of a name wins), each after its imports. */
function readProtosets(paths: readonly string[]): FileRegistry {
  const byName = new Map<string, FileDescriptorProto>();
  const from = new Map<string, string>();
  for (const p of paths) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(p);
    } catch (err) {
      throw new SwitchboardError(ErrorCode.CLI_INPUT, `--protoset ${p}: cannot read: ${(err as Error).message}`);
    }
    let files: FileDescriptorProto[];
    try {
      files = fromBinary(FileDescriptorSetSchema, bytes).file;
    } catch (err) {
      throw new SwitchboardError(ErrorCode.BAD_DESCRIPTOR, `--protoset ${p} is not a binary FileDescriptorSet: ${(err as Error).message}`);
    }
    if (files.length === 0) throw new SwitchboardError(ErrorCode.BAD_DESCRIPTOR, `--protoset ${p} holds no files`);
    for (const f of files) {
      if (byName.has(f.name)) continue;
      byName.set(f.name, f);
      from.set(f.name, p);
    }
  }
  const ordered: FileDescriptorProto[] = [];
  const seen = new Set<string>();
  const visit = (file: FileDescriptorProto) => {
    if (seen.has(file.name)) return;
    seen.add(file.name);
    for (const dep of file.dependency) {
      const found = byName.get(dep) ?? WELL_KNOWN_FILES.find((w) => w.proto.name === dep)?.proto;
      if (!found) {
        throw new SwitchboardError(
          ErrorCode.BAD_DESCRIPTOR,
          `--protoset ${from.get(file.name)}: ${JSON.stringify(file.name)} imports ${JSON.stringify(dep)}, which no --protoset holds (make the set with --include_imports)`,
        );
      }
      visit(found);
    }
    ordered.push(file);
  };
  for (const f of byName.values()) visit(f);
  try {
    return createFileRegistry(create(FileDescriptorSetSchema, { file: ordered }));
  } catch (err) {
    throw new SwitchboardError(ErrorCode.BAD_DESCRIPTOR, `the --protoset files do not form a valid set: ${(err as Error).message}`, { cause: err });
  }
}
