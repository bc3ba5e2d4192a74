// The descriptor index server reflection answers from: files by name, the file declaring each
// symbol, extensions by (extendee, number), built from protobuf-es DescService / DescFile objects
// and their transitive imports.
import { toBinary, type DescEnum, type DescExtension, type DescFile, type DescMessage, type DescService } from "@bufbuild/protobuf";
import {
  FileDescriptorProtoSchema,
  file_google_protobuf_any,
  file_google_protobuf_api,
  file_google_protobuf_descriptor,
  file_google_protobuf_duration,
  file_google_protobuf_empty,
  file_google_protobuf_field_mask,
  file_google_protobuf_source_context,
  file_google_protobuf_struct,
  file_google_protobuf_timestamp,
  file_google_protobuf_type,
  file_google_protobuf_wrappers,
} from "@bufbuild/protobuf/wkt";

/** The classic well-known types (google/protobuf/*.proto), resolvable by every reflection service. */
export const WELL_KNOWN_FILES: readonly DescFile[] = [
  file_google_protobuf_any,
  file_google_protobuf_api,
  file_google_protobuf_descriptor,
  file_google_protobuf_duration,
  file_google_protobuf_empty,
  file_google_protobuf_field_mask,
  file_google_protobuf_source_context,
  file_google_protobuf_struct,
  file_google_protobuf_timestamp,
  file_google_protobuf_type,
  file_google_protobuf_wrappers,
];

/** What reflection can describe: a service (listed, and its file resolvable) or a file (resolvable only). */
export type ReflectionSource = DescService | DescFile;

/**
 * Files, symbols and extensions of a set of services and files, with their imports. Symbols
 * follow protobuf's scoping: messages, enums, services and extensions by full name, nested
 * types under their parent, methods and fields under their service/message, enum values
 * beside their enum (`pkg.VALUE`, as in C++ and Go).
 */
export class DescriptorIndex {
  private readonly services: string[] = [];
  private readonly files = new Map<string, DescFile>();
  private readonly symbols = new Map<string, DescFile>();
  private readonly messages = new Set<string>();
  private readonly extensions = new Map<string, DescFile>();
  private readonly extensionNumbers = new Map<string, Set<number>>();
  private readonly encoded = new Map<DescFile, Uint8Array>();

  constructor(sources: Iterable<ReflectionSource>, options: { wellKnownTypes?: boolean } = {}) {
    const serviceNames = new Set<string>();
    for (const source of sources) {
      if (source.kind === "service") {
        if (!serviceNames.has(source.typeName)) {
          serviceNames.add(source.typeName);
          this.services.push(source.typeName);
        }
        this.addFile(source.file);
      } else if (source.kind === "file") {
        this.addFile(source);
      } else {
        throw new TypeError("reflection sources are DescService or DescFile objects (protoc-gen-es output)");
      }
    }
    if (options.wellKnownTypes !== false) for (const f of WELL_KNOWN_FILES) this.addFile(f);
  }

  /** Full names of the services, in the order given. */
  listServices(): readonly string[] {
    return this.services;
  }

  /** A file by its proto path, e.g. `helloworld/helloworld.proto`. */
  fileByName(name: string): DescFile | undefined {
    return this.files.get(name);
  }

  /** The file declaring a fully-qualified symbol (a leading dot is allowed). */
  fileContainingSymbol(symbol: string): DescFile | undefined {
    return this.symbols.get(symbol.startsWith(".") ? symbol.slice(1) : symbol);
  }

  /** The file declaring extension `number` of message `containingType`. */
  fileContainingExtension(containingType: string, number: number): DescFile | undefined {
    return this.extensions.get(extensionKey(stripDot(containingType), number));
  }

  /** The extension numbers of a message, ascending; `undefined` when the message is unknown. */
  extensionNumbersOf(typeName: string): number[] | undefined {
    const name = stripDot(typeName);
    if (!this.messages.has(name)) return undefined;
    return [...(this.extensionNumbers.get(name) ?? [])].sort((a, b) => a - b);
  }

  /** `file` and everything it imports, transitively, each once; `file` first. */
  withDependencies(file: DescFile): DescFile[] {
    const out: DescFile[] = [];
    const seen = new Set<string>();
    const visit = (f: DescFile) => {
      if (seen.has(f.proto.name)) return;
      seen.add(f.proto.name);
      out.push(this.files.get(f.proto.name) ?? f);
      for (const d of f.dependencies) visit(d);
    };
    visit(file);
    return out;
  }

  /** The serialized FileDescriptorProto of a file (cached). */
  encode(file: DescFile): Uint8Array {
    let bytes = this.encoded.get(file);
    if (!bytes) {
      bytes = toBinary(FileDescriptorProtoSchema, file.proto);
      this.encoded.set(file, bytes);
    }
    return bytes;
  }

  private addFile(file: DescFile): void {
    const name = file.proto.name;
    if (this.files.has(name)) return;
    this.files.set(name, file);
    for (const dep of file.dependencies) this.addFile(dep);
    for (const m of file.messages) this.addMessage(file, m);
    for (const e of file.enums) this.addEnum(file, e);
    for (const x of file.extensions) this.addExtension(file, x);
    for (const s of file.services) {
      this.addSymbol(s.typeName, file);
      for (const m of s.methods) this.addSymbol(`${s.typeName}.${m.name}`, file);
    }
  }

  private addMessage(file: DescFile, message: DescMessage): void {
    this.addSymbol(message.typeName, file);
    this.messages.add(message.typeName);
    for (const f of message.fields) this.addSymbol(`${message.typeName}.${f.name}`, file);
    for (const o of message.oneofs) this.addSymbol(`${message.typeName}.${o.name}`, file);
    for (const m of message.nestedMessages) this.addMessage(file, m);
    for (const e of message.nestedEnums) this.addEnum(file, e);
    for (const x of message.nestedExtensions) this.addExtension(file, x);
  }

  private addEnum(file: DescFile, e: DescEnum): void {
    this.addSymbol(e.typeName, file);
    const dot = e.typeName.lastIndexOf(".");
    const scope = dot < 0 ? "" : e.typeName.slice(0, dot + 1);
    for (const v of e.values) this.addSymbol(`${scope}${v.name}`, file);
  }

  private addExtension(file: DescFile, x: DescExtension): void {
    this.addSymbol(x.typeName, file);
    const extendee = x.extendee.typeName;
    const key = extensionKey(extendee, x.number);
    if (!this.extensions.has(key)) this.extensions.set(key, file);
    let numbers = this.extensionNumbers.get(extendee);
    if (!numbers) this.extensionNumbers.set(extendee, (numbers = new Set()));
    numbers.add(x.number);
  }

  private addSymbol(name: string, file: DescFile): void {
    if (!this.symbols.has(name)) this.symbols.set(name, file);
  }
}

function stripDot(name: string): string {
  return name.startsWith(".") ? name.slice(1) : name;
}

function extensionKey(extendee: string, number: number): string {
  return `${extendee}#${number}`;
}
