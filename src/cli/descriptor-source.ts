// Where ls, describe and call get their descriptors: the server (reflection) or local files
// (--proto, --protoset). Both answer the same questions; name lookups follow protobuf scoping.
import type { AnyDesc, DescMessage, DescMethod, DescService, Registry } from "@bufbuild/protobuf";
import { ErrorCode, SwitchboardError } from "../errors.js";
import { usageError } from "./options.js";

export interface DescriptorSource {
  /** The full names of the services to list (unsorted). */
  listServices(): Promise<string[]>;
  /** Any symbol: service, method, message, enum, field, oneof, enum value or extension. */
  lookup(symbol: string): Promise<AnyDesc>;
  /** Types for the JSON mapping of a call on `service` (Any included). */
  registryFor(service: string): Promise<Registry>;
  /** A message type for decoding an error detail: undefined when unknown. */
  message(typeName: string): Promise<DescMessage | undefined>;
  /** Releases what looking up needed (the reflection stream); lookups may reopen it. */
  release(): void;
}

export async function findService(source: DescriptorSource, name: string): Promise<DescService> {
  const desc = await source.lookup(name);
  if (desc.kind !== "service") throw new SwitchboardError(ErrorCode.UNKNOWN_SYMBOL, `${JSON.stringify(name)} is a ${desc.kind}, not a service`);
  return desc;
}

/** `pkg.Service/Method` (as in a request path, leading slash allowed) or `pkg.Service.Method`. */
export async function findMethod(source: DescriptorSource, name: string): Promise<DescMethod> {
  const path = name.replace(/^\//, "");
  const slash = path.lastIndexOf("/");
  const dot = path.lastIndexOf(".");
  const cut = slash >= 0 ? slash : dot;
  if (cut <= 0 || cut === path.length - 1) throw usageError(`${JSON.stringify(name)} is not a method name like pkg.Service/Method`);
  const service = await findService(source, path.slice(0, cut));
  const method = service.methods.find((m) => m.name === path.slice(cut + 1));
  if (!method) {
    const known = service.methods.map((m) => m.name).join(", ");
    throw new SwitchboardError(ErrorCode.UNKNOWN_SYMBOL, `service ${service.typeName} has no method ${JSON.stringify(path.slice(cut + 1))} (methods: ${known})`);
  }
  return method;
}

/** A symbol in `registry`: types by full name, then members (methods, fields, oneofs, enum values). */
export function findInRegistry(registry: Registry, name: string): AnyDesc | undefined {
  return registry.get(name) ?? member(registry, name);
}

/** Methods, fields and oneofs under their parent; enum values beside their enum (protobuf scoping). */
function member(registry: Registry, name: string): AnyDesc | undefined {
  const dot = name.lastIndexOf(".");
  if (dot <= 0) return undefined;
  const scope = name.slice(0, dot);
  const last = name.slice(dot + 1);
  const parent = registry.get(scope);
  if (parent?.kind === "service") return parent.methods.find((m) => m.name === last);
  if (parent?.kind === "message") {
    const found = parent.fields.find((f) => f.name === last) ?? parent.oneofs.find((o) => o.name === last);
    if (found) return found;
  }
  for (const desc of registry) {
    if (desc.kind !== "enum" || desc.typeName.slice(0, desc.typeName.lastIndexOf(".")) !== scope) continue;
    const value = desc.values.find((v) => v.name === last);
    if (value) return value;
  }
  return undefined;
}
