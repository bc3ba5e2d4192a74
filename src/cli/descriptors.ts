// Descriptors of a running server, fetched by reflection: the file declaring a symbol plus
// everything it imports, turned into a protobuf-es FileRegistry (for describing, and for the
// JSON mapping of calls, google.protobuf.Any included).
import { create, createFileRegistry, type AnyDesc, type DescMessage, type FileRegistry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { ErrorCode, SwitchboardError } from "../errors.js";
import { WELL_KNOWN_FILES } from "../services/reflection/index-files.js";
import { findInRegistry, type DescriptorSource } from "./descriptor-source.js";
import { normalizeDescriptors } from "./normalize.js";
import type { ReflectionClient } from "./reflection-client.js";

export class ServerDescriptors implements DescriptorSource {
  /** Every file the server sent so far, by name. */
  private readonly files = new Map<string, FileDescriptorProto>();
  /** Registries built so far, by the symbol asked for (a call needs its service's twice). */
  private readonly registries = new Map<string, Promise<FileRegistry>>();

  constructor(readonly reflection: ReflectionClient) {}

  listServices(): Promise<string[]> {
    return this.reflection.listServices();
  }

  release(): void {
    this.reflection.close();
  }

  /** A registry with the file declaring `symbol` and its transitive imports. */
  registryFor(symbol: string): Promise<FileRegistry> {
    let registry = this.registries.get(symbol);
    if (!registry) {
      registry = this.build(symbol);
      this.registries.set(symbol, registry);
      registry.catch(() => this.registries.delete(symbol));
    }
    return registry;
  }

  private async build(symbol: string): Promise<FileRegistry> {
    const answer = await this.reflection.fileContainingSymbol(symbol);
    if (answer.length === 0) throw new SwitchboardError(ErrorCode.BAD_DESCRIPTOR, `reflection sent no file for ${JSON.stringify(symbol)}`);
    for (const f of answer) if (!this.files.has(f.name)) this.files.set(f.name, f);
    const ordered = await this.dependencyOrder(answer);
    normalizeDescriptors(ordered);
    try {
      return createFileRegistry(create(FileDescriptorSetSchema, { file: ordered }));
    } catch (err) {
      throw new SwitchboardError(ErrorCode.BAD_DESCRIPTOR, `the server's descriptors for ${JSON.stringify(symbol)} are not usable: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Any symbol: service, method, message, enum, field, oneof, enum value or extension. */
  async lookup(symbol: string): Promise<AnyDesc> {
    const name = symbol.replace(/^\./, "");
    const registry = await this.registryFor(name);
    const found = findInRegistry(registry, name);
    if (!found) throw new SwitchboardError(ErrorCode.UNKNOWN_SYMBOL, `symbol ${JSON.stringify(name)} not found in the descriptors the server sent`);
    return found;
  }

  /** A message type for decoding (error details): undefined when the server does not know it. */
  async message(typeName: string): Promise<DescMessage | undefined> {
    try {
      return (await this.registryFor(typeName)).getMessage(typeName);
    } catch {
      return undefined;
    }
  }

  /**
   * The answer's files with their imports, each after everything it imports (what
   * createFileRegistry needs). Files the server sent along without the root importing them
   * come first: grpc-js reflection links files by the types they reference, not by imports.
   */
  private async dependencyOrder(answer: readonly FileDescriptorProto[]): Promise<FileDescriptorProto[]> {
    const ordered: FileDescriptorProto[] = [];
    const seen = new Set<string>();
    const visit = async (file: FileDescriptorProto): Promise<void> => {
      if (seen.has(file.name)) return;
      seen.add(file.name);
      for (const dep of file.dependency) await visit(await this.file(dep, file.name));
      ordered.push(file);
    };
    for (const f of answer.slice(1).reverse()) await visit(f);
    await visit(answer[0]!);
    return ordered;
  }

  /** An imported file: sent already, asked for by name, or (if the server lacks it) a well-known type. */
  private async file(name: string, importer: string): Promise<FileDescriptorProto> {
    let file = this.files.get(name);
    if (!file) {
      try {
        for (const f of await this.reflection.fileByFilename(name)) if (!this.files.has(f.name)) this.files.set(f.name, f);
      } catch (err) {
        if (!(err instanceof SwitchboardError && err.code === ErrorCode.UNKNOWN_SYMBOL)) throw err;
      }
      file = this.files.get(name) ?? WELL_KNOWN_FILES.find((f) => f.proto.name === name)?.proto;
    }
    if (!file) throw new SwitchboardError(ErrorCode.BAD_DESCRIPTOR, `the server does not know ${JSON.stringify(name)}, imported by ${JSON.stringify(importer)}`);
    return file;
  }
}
