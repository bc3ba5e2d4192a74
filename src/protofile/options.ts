// Option statements -> the options messages of the descriptor, as protoc's OptionInterpreter
// does: standard options by field name (`deprecated`, `features.field_presence`), custom options
// by extension name (`(my.opt)`, `(my.opt).sub`), values converted to the option's type, and
// aggregate `{...}` values parsed as protobuf text format. Custom options end up as extension
// fields of the options message (unknown fields on the wire), as in protoc's output.
import { create, getExtension, hasExtension, ScalarType, setExtension, type DescEnum, type DescExtension, type DescMessage, type Message, type Registry } from "@bufbuild/protobuf";
import { reflect, type ReflectMessage } from "@bufbuild/protobuf/reflect";
import { fromText } from "@bufbuild/protobuf/txtpb";
import {
  EnumOptionsSchema,
  EnumValueOptionsSchema,
  ExtensionRangeOptionsSchema,
  FieldOptionsSchema,
  FileOptionsSchema,
  MessageOptionsSchema,
  MethodOptionsSchema,
  OneofOptionsSchema,
  ServiceOptionsSchema,
} from "@bufbuild/protobuf/wkt";
import type { OptionNamePart, OptionsHolder, OptionStatement, OptionTarget, OptionValue, ParsedFile } from "./ast.js";
import { protoError } from "./errors.js";
import type { Pos } from "./tokenizer.js";

const SCHEMAS: Readonly<Record<OptionTarget, DescMessage>> = {
  file: FileOptionsSchema,
  message: MessageOptionsSchema,
  field: FieldOptionsSchema,
  oneof: OneofOptionsSchema,
  enum: EnumOptionsSchema,
  enum_value: EnumValueOptionsSchema,
  service: ServiceOptionsSchema,
  method: MethodOptionsSchema,
  extension_range: ExtensionRangeOptionsSchema,
};

export interface OptionContext {
  file: ParsedFile;
  /** The file (before its custom options) and its imports: custom options and Any in aggregates. */
  registry: Registry | undefined;
  /** The extension a `(name)` part refers to, looked up from `relativeTo`; throws when there is none. */
  findExtension(name: string, relativeTo: string, at: Pos): DescExtension;
}

/** Does any statement of the file need the registry (a custom option, or an aggregate value)? */
export function needsRegistry(file: ParsedFile): boolean {
  return file.options.some((o) => o.value.kind === "aggregate" || o.name.some((p) => p.extension));
}

/** Applies every option statement of the file to its descriptor, in source order. */
export function interpretOptions(ctx: OptionContext): void {
  for (const statement of ctx.file.options) {
    for (const holder of statement.holders) new Interpreter(ctx, statement).run(holder);
  }
}

type ValueShape = { fieldKind: string; scalar?: ScalarType; enum?: DescEnum; message?: DescMessage };

class Interpreter {
  constructor(
    private readonly ctx: OptionContext,
    private readonly statement: OptionStatement,
  ) {}

  run(holder: OptionsHolder): void {
    const schema = SCHEMAS[this.statement.target];
    const first = this.statement.name[0]!;
    if (this.statement.target === "message" && !first.extension && first.name === "map_entry") {
      this.fail(first.pos, "map_entry should not be set explicitly. Use map<KeyType, ValueType> instead.");
    }
    if (!first.extension && first.name === "uninterpreted_option") this.fail(first.pos, "Option must not use reserved name \"uninterpreted_option\".");
    holder.options ??= create(schema);
    this.assign(reflect(schema, holder.options as Message), 0);
  }

  private assign(target: ReflectMessage, i: number): void {
    const part = this.statement.name[i]!;
    const last = i === this.statement.name.length - 1;
    const shown = displayName(this.statement.name.slice(0, i + 1));
    if (!part.extension) {
      const field = target.desc.fields.find((f) => f.name === part.name);
      if (!field) {
        if (i === 0) this.fail(part.pos, `Option "${shown}" unknown. Ensure that your proto definition file imports the proto which defines the option.`);
        this.fail(part.pos, `Option field "${shown}" is not a field or extension of message "${target.desc.name}".`);
      }
      if (!last) {
        if (field.fieldKind !== "message") this.fail(this.statement.name[i + 1]!.pos, `Option "${shown}" is an atomic type, not a message.`);
        const sub = target.isSet(field) ? (target.get(field) as ReflectMessage) : reflect(field.message);
        this.assign(sub, i + 1);
        target.set(field, sub);
        return;
      }
      if (field.fieldKind === "list") {
        const list = target.get(field) as { add(v: unknown): void };
        if (field.listKind === "message") list.add(reflect(field.message, this.convert({ fieldKind: "message", message: field.message }, shown) as Message));
        else list.add(this.convert(field.listKind === "scalar" ? { fieldKind: "scalar", scalar: field.scalar } : { fieldKind: "enum", enum: field.enum }, shown));
        return;
      }
      if (field.fieldKind === "map") this.fail(part.pos, `Option "${shown}" is a map: set it with an aggregate value of the enclosing message.`);
      if (target.isSet(field)) this.fail(part.pos, `Option "${shown}" was already set.`);
      const value = this.convert(field, shown);
      target.set(field, field.fieldKind === "message" ? reflect(field.message, value as Message) : value);
      return;
    }

    const ext = this.ctx.findExtension(part.name, this.statement.relativeTo, part.pos);
    if (ext.extendee.typeName !== target.desc.typeName) {
      this.fail(part.pos, `Option "${shown}" extends "${ext.extendee.typeName}", so it cannot be set on "${target.desc.typeName}".`);
    }
    const message = target.message;
    const isSet = hasExtension(message, ext);
    if (!last) {
      if (ext.fieldKind !== "message") this.fail(this.statement.name[i + 1]!.pos, `Option "${shown}" is an atomic type, not a message.`);
      const value = (isSet ? getExtension(message, ext) : create(ext.message)) as Message;
      this.assign(reflect(ext.message, value), i + 1);
      setExtension(message, ext, value as never);
      return;
    }
    if (ext.fieldKind === "list") {
      const element: ValueShape = ext.listKind === "scalar" ? { fieldKind: "scalar", scalar: ext.scalar } : ext.listKind === "enum" ? { fieldKind: "enum", enum: ext.enum } : { fieldKind: "message", message: ext.message };
      const list = (isSet ? getExtension(message, ext) : []) as unknown[];
      setExtension(message, ext, [...list, this.convert(element, shown)] as never);
      return;
    }
    if (isSet) this.fail(part.pos, `Option "${shown}" was already set.`);
    setExtension(message, ext, this.convert(ext as ValueShape, shown) as never);
  }

  /** The statement's value as a value of the field's type (a plain message for message types). */
  private convert(field: ValueShape, shown: string): unknown {
    const v = this.statement.value;
    if (field.message) {
      if (v.kind !== "aggregate") {
        this.fail(v.pos, `Option "${shown}" is a message. To set the entire message, use syntax like "${shown} = { <proto text format> }". To set fields within it, use syntax like "${shown}.foo = value".`);
      }
      try {
        return fromText(field.message, v.text, { registry: this.ctx.registry });
      } catch (err) {
        return this.fail(v.pos, `Error while parsing option value for "${shown}": ${(err as Error).message}`);
      }
    }
    if (field.enum) {
      if (v.kind !== "ident" || v.negative) this.fail(v.pos, `Value must be identifier for enum-valued option "${shown}".`);
      const value = field.enum.values.find((e) => e.name === v.text);
      if (!value) this.fail(v.pos, `Enum type "${field.enum.typeName}" has no value named "${v.text}" for option "${shown}".`);
      return value.number;
    }
    return this.scalar(field.scalar!, v, shown);
  }

  private scalar(type: ScalarType, v: OptionValue, shown: string): unknown {
    const name = ScalarType[type].toLowerCase();
    switch (type) {
      case ScalarType.BOOL:
        if (v.kind !== "ident" || (v.text !== "true" && v.text !== "false")) this.fail(v.pos, `Value must be "true" or "false" for boolean option "${shown}".`);
        return v.text === "true";
      case ScalarType.STRING:
        if (v.kind !== "string") this.fail(v.pos, `Value must be quoted string for string option "${shown}".`);
        return new TextDecoder().decode(v.bytes);
      case ScalarType.BYTES:
        if (v.kind !== "string") this.fail(v.pos, `Value must be quoted string for string option "${shown}".`);
        return v.bytes;
      case ScalarType.FLOAT:
      case ScalarType.DOUBLE: {
        let n: number;
        if (v.kind === "int") n = Number(v.value);
        else if (v.kind === "float") n = v.value;
        else if (v.kind === "ident" && (v.text === "inf" || v.text === "nan")) n = v.text === "inf" ? Infinity : NaN;
        else return this.fail(v.pos, `Value must be number for ${name} option "${shown}".`);
        return v.negative ? -n : n;
      }
      default: {
        if (v.kind !== "int") return this.fail(v.pos, `Value must be integer for ${name} option "${shown}".`);
        const [min, max] = INT_RANGES[type]!;
        const n = v.negative ? -v.value : v.value;
        if (n < min || n > max) this.fail(v.pos, `Value out of range for ${name} option "${shown}".`);
        const is64 = type === ScalarType.INT64 || type === ScalarType.UINT64 || type === ScalarType.SINT64 || type === ScalarType.FIXED64 || type === ScalarType.SFIXED64;
        return is64 ? n : Number(n);
      }
    }
  }

  private fail(at: Pos, message: string): never {
    throw protoError(this.ctx.file.display, at, message);
  }
}

const I32: [bigint, bigint] = [-(2n ** 31n), 2n ** 31n - 1n];
const U32: [bigint, bigint] = [0n, 2n ** 32n - 1n];
const I64: [bigint, bigint] = [-(2n ** 63n), 2n ** 63n - 1n];
const U64: [bigint, bigint] = [0n, 2n ** 64n - 1n];
const INT_RANGES: Partial<Record<ScalarType, [bigint, bigint]>> = {
  [ScalarType.INT32]: I32,
  [ScalarType.SINT32]: I32,
  [ScalarType.SFIXED32]: I32,
  [ScalarType.UINT32]: U32,
  [ScalarType.FIXED32]: U32,
  [ScalarType.INT64]: I64,
  [ScalarType.SINT64]: I64,
  [ScalarType.SFIXED64]: I64,
  [ScalarType.UINT64]: U64,
  [ScalarType.FIXED64]: U64,
};

/** `a.(b.c).d` as written. */
function displayName(parts: readonly OptionNamePart[]): string {
  return parts.map((p) => (p.extension ? `(${p.name})` : p.name)).join(".");
}
