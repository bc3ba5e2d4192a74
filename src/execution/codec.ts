// How messages cross the thread boundary. protobuf-es v2 messages are plain objects, so
// structured clone carries them whole (bigint, Uint8Array, oneofs, maps, $unknown) without
// re-encoding — except one case: messages of proto2 / editions files with explicit-presence
// scalar fields keep their default values on a *prototype*, which structured clone drops
// (`optimizeFor` of an unset google.protobuf.FileOptions would read `undefined`, not SPEED).
// Those, and messages that contain them, travel as protobuf bytes instead, and the worker
// gets the schema once as a FileDescriptorSet. Everything else is cloned.
import { create, createFileRegistry, fromBinary, isMessage, toBinary, type DescFile, type DescMessage } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import type { Payload, SchemaShipment } from "./protocol.js";

const needsBytesCache = new WeakMap<DescMessage, boolean>();

/** Whether messages of `desc` (or any message inside them) rely on a prototype that cloning loses. */
export function needsBytes(desc: DescMessage): boolean {
  let known = needsBytesCache.get(desc);
  if (known === undefined) {
    known = walk(desc, new Set());
    needsBytesCache.set(desc, known);
  }
  return known;
}

function walk(desc: DescMessage, seen: Set<DescMessage>): boolean {
  if (seen.has(desc)) return false;
  seen.add(desc);
  // Asking protobuf-es itself is exact: it uses a prototype exactly when presence needs one.
  if (Object.getPrototypeOf(create(desc)) !== Object.prototype) return true;
  for (const field of desc.fields) {
    const nested = field.fieldKind === "message" ? field.message : field.fieldKind === "list" || field.fieldKind === "map" ? field.message : undefined;
    if (nested && walk(nested, seen)) return true;
  }
  return false;
}

/** Main side: a message ready for postMessage. */
export function encodePayload(desc: DescMessage | undefined, value: unknown): Payload {
  if (desc === undefined || !needsBytes(desc)) return { value };
  return { bytes: toBinary(desc, isMessage(value, desc) ? value : create(desc, value as never)), typeName: desc.typeName };
}

/** Either side: the message back from its payload; `schemaOf` finds the schema of byte payloads. */
export function decodePayload(payload: Payload, schemaOf: (typeName: string) => DescMessage): unknown {
  return "bytes" in payload ? fromBinary(schemaOf(payload.typeName), payload.bytes) : payload.value;
}

const shipments = new WeakMap<DescMessage, SchemaShipment>();

/** Main side: the schema of `desc` as a FileDescriptorSet (its file and every import), made once. */
export function shipmentOf(desc: DescMessage): SchemaShipment {
  let s = shipments.get(desc);
  if (!s) {
    const files: DescFile[] = [];
    const seen = new Set<string>();
    const visit = (f: DescFile) => {
      if (seen.has(f.proto.name)) return;
      seen.add(f.proto.name);
      for (const d of f.dependencies) visit(d);
      files.push(f);
    };
    visit(desc.file);
    const set = toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, { file: files.map((f) => f.proto) }));
    s = { typeName: desc.typeName, set };
    shipments.set(desc, s);
  }
  return s;
}

/** Worker side: message schemas received from the main thread, by type name. */
export class SchemaCache {
  private readonly byName = new Map<string, DescMessage>();

  add(shipment: SchemaShipment): void {
    if (this.byName.has(shipment.typeName)) return;
    const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, shipment.set));
    const desc = registry.getMessage(shipment.typeName);
    if (!desc) throw new Error(`the schema sent for ${shipment.typeName} does not declare it`);
    this.byName.set(shipment.typeName, desc);
  }

  get(typeName: string): DescMessage {
    const desc = this.byName.get(typeName);
    if (!desc) throw new Error(`no schema for ${typeName} was sent to this worker`);
    return desc;
  }
}
