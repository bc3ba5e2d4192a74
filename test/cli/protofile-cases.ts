// .proto inputs that must be rejected, with the error our parser gives (file:line:col: message).
// protofile.test.ts checks our messages; protofile-protoc.test.ts checks that protoc rejects each
// input too, at the same line and column.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

export interface BadCase {
  name: string;
  /** Files by name; the first is the one compiled. */
  files: Record<string, string>;
  /** Our error: `file:LINE:COL: message`. */
  error: RegExp;
  /** "" when protoc names no line and column for this error (we do). */
  protocAt?: "";
}

const P3 = 'syntax = "proto3";\npackage p;\n';
const P2 = 'syntax = "proto2";\npackage p;\n';

export const BAD_CASES: readonly BadCase[] = [
  { name: "a missing semicolon", files: { "a.proto": `${P3}message M { int32 x = 1 }\n` }, error: /^a\.proto:3:25: Expected ";"\./ },
  { name: "an unterminated message", files: { "a.proto": `${P3}message M {\n  int32 x = 1;\n` }, error: /^a\.proto:5:1: Reached end of input in message definition \(missing '}'\)\./ },
  { name: "an unknown syntax", files: { "a.proto": 'syntax = "proto4";\n' }, error: /^a\.proto:1:10: Unrecognized syntax identifier "proto4"/ },
  { name: "a proto2 field without a label", files: { "a.proto": `${P2}message M { int32 x = 1; }\n` }, error: /^a\.proto:3:13: Expected "required", "optional", or "repeated"\./ },
  { name: "required in proto3", files: { "a.proto": `${P3}message M { required int32 x = 1; }\n` }, error: /^a\.proto:3:22: Required fields are not allowed in proto3\./ },
  { name: "a default in proto3", files: { "a.proto": `${P3}message M { int32 x = 1 [default = 5]; }\n` }, error: /^a\.proto:3:36: Explicit default values are not allowed in proto3\./ },
  { name: "a group in proto3", files: { "a.proto": `${P3}message M { repeated group G = 1 {} }\n` }, error: /^a\.proto:3:22: Groups are not supported in proto3 syntax\./ },
  { name: "an undefined type", files: { "a.proto": `${P3}message M { Nope x = 1; }\n` }, error: /^a\.proto:3:13: "Nope" is not defined\./ },
  {
    name: "a compound name whose first part resolves to the innermost scope",
    files: { "a.proto": `${P3}message Outer { message Inner {} }\nmessage M {\n  message Outer {}\n  Outer.Inner x = 1;\n}\n` },
    error: /^a\.proto:6:3: "Outer\.Inner" is resolved to "p\.M\.Outer\.Inner", which is not defined\..*leading '\.'/,
  },
  {
    name: "a type from a file that is not imported",
    files: { "a.proto": `${P3}import "b.proto";\nmessage M { q.C x = 1; }\n`, "b.proto": `${P3}import "c.proto";\n`, "c.proto": 'syntax = "proto3";\npackage q;\nmessage C {}\n' },
    error: /^a\.proto:4:13: "q\.C" seems to be defined in "c\.proto", which is not imported by "a\.proto"\.\s+To use it here, please add the necessary import\./,
  },
  { name: "a field that is not a type", files: { "a.proto": `${P3}message M { int32 f = 1; M.f g = 2; }\n` }, error: /^a\.proto:3:26: "M\.f" is not a type\./ },
  { name: "a method input that is an enum", files: { "a.proto": `${P3}enum E { Z = 0; }\nmessage M {}\nservice S { rpc R(E) returns (M); }\n` }, error: /^a\.proto:5:19: "E" is not a message type\./ },
  { name: "a duplicate field number", files: { "a.proto": `${P3}message M {\n  int32 a = 1;\n  int32 b = 1;\n}\n` }, error: /^a\.proto:5:13: Field number 1 has already been used in "p\.M" by field "a"\./ },
  { name: "a duplicate name", files: { "a.proto": `${P3}message M {}\nmessage M {}\n` }, error: /^a\.proto:4:9: "M" is already defined in "p"\./ },
  { name: "a reserved field number", files: { "a.proto": `${P3}message M {\n  reserved 2 to 4;\n  int32 a = 3;\n}\n` }, error: /^a\.proto:5:13: Field "a" uses reserved number 3\./, protocAt: "" },
  { name: "a reserved field name", files: { "a.proto": `${P3}message M {\n  reserved "a";\n  int32 a = 3;\n}\n` }, error: /^a\.proto:5:9: Field name "a" is reserved\./ },
  { name: "a field number out of range", files: { "a.proto": `${P3}message M { int32 a = 536870912; }\n` }, error: /^a\.proto:3:23: Field numbers cannot be greater than 536870911\./ },
  { name: "a field number in 19000-19999", files: { "a.proto": `${P3}message M { int32 a = 19500; }\n` }, error: /^a\.proto:3:23: Field numbers 19000 through 19999 are reserved/ },
  { name: "a zero field number", files: { "a.proto": `${P3}message M { int32 a = 0; }\n` }, error: /^a\.proto:3:23: Field numbers must be positive integers\./ },
  { name: "a proto3 enum not starting at zero", files: { "a.proto": `${P3}enum E { ONE = 1; }\n` }, error: /^a\.proto:3:16: The first enum value must be zero in proto3\./ },
  { name: "an enum alias without allow_alias", files: { "a.proto": `${P2}enum E {\n  A = 1;\n  B = 1;\n}\n` }, error: /^a\.proto:5:7: "p\.B" uses the same enum value as "p\.A"\. If this is intended, set 'option allow_alias = true;' to the enum definition\./ },
  { name: "an enum value name clash in one scope", files: { "a.proto": `${P3}enum E { X = 0; }\nenum F { X = 0; }\n` }, error: /^a\.proto:4:10: "X" is already defined in "p"\. Note that enum values use C\+\+ scoping rules/ },
  { name: "an unknown option", files: { "a.proto": `${P3}option nope = 1;\n` }, error: /^a\.proto:3:8: Option "nope" unknown\./ },
  { name: "a wrongly typed option", files: { "a.proto": `${P3}option java_package = 5;\n` }, error: /^a\.proto:3:23: Value must be quoted string for string option "java_package"\./ },
  { name: "an unknown enum option value", files: { "a.proto": `${P3}option optimize_for = FAST;\n` }, error: /^a\.proto:3:23: Enum type "google\.protobuf\.FileOptions\.OptimizeMode" has no value named "FAST" for option "optimize_for"\./ },
  { name: "an option set twice", files: { "a.proto": `${P3}option java_package = "a";\noption java_package = "b";\n` }, error: /^a\.proto:4:8: Option "java_package" was already set\./ },
  {
    name: "a bad aggregate value",
    files: { "a.proto": `${P2}import "google/protobuf/descriptor.proto";\nmessage R { optional int32 n = 1; }\nextend google.protobuf.MessageOptions { optional R r = 50000; }\nmessage M { option (r) = { n: "x" }; }\n` },
    error: /^a\.proto:6:26: Error while parsing option value for "\(r\)": /,
  },
  { name: "an import that does not exist", files: { "a.proto": `${P3}import "missing.proto";\n` }, error: /^a\.proto:3:1: Import "missing\.proto" was not found/ },
  {
    name: "an import cycle",
    files: { "a.proto": `${P3}import "b.proto";\n`, "b.proto": `${P3}import "a.proto";\n` },
    error: /^b\.proto:3:1: File recursively imports itself: a\.proto -> b\.proto -> a\.proto/,
  },
  { name: "an extension outside the extendee's ranges", files: { "a.proto": `${P2}message M { extensions 10 to 20; }\nextend M { optional int32 x = 5; }\n` }, error: /^a\.proto:4:31: "p\.M" does not declare 5 as an extension number\./ },
  { name: "an extension of a message in proto3", files: { "a.proto": `${P3}message M {}\nextend M { int32 x = 1; }\n` }, error: /^a\.proto:4:22: "p\.M" does not declare 1 as an extension number\./ },
  {
    name: "a proto3 extension of a proto2 message",
    files: { "a.proto": `${P3}import "b.proto";\nextend q.M { int32 x = 5; }\n`, "b.proto": 'syntax = "proto2";\npackage q;\nmessage M { extensions 1 to 10; }\n' },
    error: /^a\.proto:4:8: Extensions in proto3 are only allowed for defining options\./,
  },
  { name: "a map with a float key", files: { "a.proto": `${P3}message M { map<float, int32> m = 1; }\n` }, error: /^a\.proto:3:13: Key in map fields cannot be float\/double, bytes or message types\./ },
  { name: "a label on a oneof field", files: { "a.proto": `${P3}message M { oneof o { optional int32 a = 1; } }\n` }, error: /^a\.proto:3:23: Fields in oneofs must not have labels/ },
  { name: "an invalid escape", files: { "a.proto": `${P3}option java_package = "a\\qb";\n` }, error: /^a\.proto:3:26: Invalid escape sequence in string literal\./ },
  { name: "a number glued to a name", files: { "a.proto": `${P3}message M { int32 a = 1b; }\n` }, error: /^a\.proto:3:24: Need space between number and identifier\./ },
  { name: "a proto3 message using a proto2 enum", files: { "a.proto": `${P3}import "b.proto";\nmessage M { q.E e = 1; }\n`, "b.proto": 'syntax = "proto2";\npackage q;\nenum E { A = 1; }\n' }, error: /^a\.proto:4:13: Enum type "q\.E" is not a proto3 enum, but is used in "p\.M" which is a proto3 message type\./ },
  {
    name: "a tab in the line (columns count tabs to the next multiple of 8, as protoc does)",
    files: { "a.proto": `${P3}message M {\n\tint32 a = 1\n}\n` },
    error: /^a\.proto:5:1: Expected ";"\./,
  },
];

/** Writes the case's files into a fresh directory; `dispose` removes it. */
export function writeCase(c: BadCase): { dir: string; file: string } & Disposable {
  const dir = mkdtempSync(path.join(tmpdir(), "sb-proto-case-"));
  for (const [name, text] of Object.entries(c.files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return { dir, file: Object.keys(c.files)[0]!, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}
