// src/protofile without protoc: the errors (one line, file:line:col, ERR_SB_BAD_PROTO), name
// resolution by protobuf's scoping rules, json_name, strings, synthetic oneofs, map entries,
// groups, custom options, well-known imports from the built-in descriptors, and how files are
// named from the import paths. protofile-protoc.test.ts compares whole descriptors with protoc.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { fromBinary, getOption, toBinary, type DescMessage } from "@bufbuild/protobuf";
import { reflect, type ReflectList } from "@bufbuild/protobuf/reflect";
import { file_google_protobuf_timestamp, FieldDescriptorProto_Type as Type, type DescriptorProto, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { ErrorCode, SwitchboardError } from "../../src/errors.js";
import { loadProtoFiles } from "../../src/protofile/index.js";
import { REPO_ROOT } from "./helpers.js";
import { BAD_CASES, writeCase } from "./protofile-cases.js";

const FIXTURES = path.join(REPO_ROOT, "test", "cli", "fixtures", "protofile");
const tricky = loadProtoFiles({ files: ["tricky/proto2.proto", "tricky/proto3.proto"], importPaths: [FIXTURES], cwd: FIXTURES });
const scratch = mkdtempSync(path.join(tmpdir(), "sb-protofile-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

function file(name: string): FileDescriptorProto {
  const f = tricky.files.find((x) => x.name === name);
  assert.ok(f, `${name} loaded`);
  return f;
}

function message(f: FileDescriptorProto, ...names: string[]): DescriptorProto {
  let list = f.messageType;
  let found: DescriptorProto | undefined;
  for (const n of names) {
    found = list.find((m) => m.name === n);
    assert.ok(found, `message ${names.join(".")}`);
    list = found.nestedType;
  }
  return found!;
}

function field(m: DescriptorProto, name: string) {
  const f = m.field.find((x) => x.name === name);
  assert.ok(f, `field ${name} of ${m.name}`);
  return f;
}

/** Writes files under a fresh directory of the scratch folder and returns it. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(scratch, "t-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

function loadError(run: () => unknown): SwitchboardError {
  try {
    run();
  } catch (err) {
    assert.ok(err instanceof SwitchboardError, String(err));
    return err;
  }
  assert.fail("no error");
}

describe("src/protofile: errors", () => {
  for (const c of BAD_CASES) {
    it(`${c.name}: one line, file:line:col, ERR_SB_BAD_PROTO`, () => {
      using dir = writeCase(c);
      const err = loadError(() => loadProtoFiles({ files: [dir.file], importPaths: [dir.dir], cwd: dir.dir }));
      assert.equal(err.code, ErrorCode.BAD_PROTO);
      assert.match(err.message, c.error);
      assert.doesNotMatch(err.message, /\n/);
    });
  }
});

describe("src/protofile: descriptors", () => {
  it("type names resolve innermost scope first; a leading dot is fully qualified; a field does not hide a type", () => {
    const outer = message(file("tricky/proto2.proto"), "Outer");
    assert.equal(field(outer, "mine").typeName, ".tricky.two.Outer.Shared");
    assert.equal(field(outer, "theirs").typeName, ".tricky.base.Shared");
    assert.equal(field(outer, "absolute").typeName, ".tricky.base.Shared");
    assert.equal(field(outer, "color_type").typeName, ".tricky.base.Color");
    const middle = message(file("tricky/proto2.proto"), "Outer", "Middle");
    assert.equal(field(middle, "m").typeName, ".tricky.two.Outer.Middle.Shared", "declared after the field, still the innermost: scopes, not order");
    assert.equal(field(middle, "inner").typeName, ".tricky.two.Outer.Middle.Shared");
    assert.equal(field(middle, "via_outer").typeName, ".tricky.two.Outer.Shared");
    assert.equal(field(middle, "again").typeName, ".tricky.two.Outer.Middle");
  });

  it("json_name as protoc derives it, unless set; every field has one", () => {
    const fields = message(file("tricky/proto2.proto"), "Fields");
    assert.equal(field(fields, "field_with_under_scores_2x").jsonName, "fieldWithUnderScores2x");
    assert.equal(field(fields, "_leading").jsonName, "Leading");
    assert.equal(field(fields, "trailing_").jsonName, "trailing");
    assert.equal(field(fields, "renamed").jsonName, "customName");
    assert.equal(field(fields, "CamelCase").jsonName, "CamelCase");
  });

  it("string escapes (octal, hex, \\u, \\U) and adjacent literals concatenate", () => {
    const options = file("tricky/options.proto").options!;
    assert.equal(options.javaPackage, "com.example.tricky");
    const defaults = message(file("tricky/proto2.proto"), "Defaults");
    assert.equal(field(defaults, "str").defaultValue, 'tab\there "quoted" é');
    assert.equal(field(defaults, "byt").defaultValue, "\\000\\001\\n\\r\\t\\\\\\\"\\'\\177\\200\\377 abc");
    const label = tricky.registry.getExtension("tricky.opts.file_label")!;
    assert.equal(getOption(tricky.registry.getFile("tricky/proto2.proto")!, label), "proto2 AAé😀\t");
  });

  it("proto3 optional: proto3_optional and a synthetic oneof after the declared ones, renamed X… until unique", () => {
    const m = message(file("tricky/proto3.proto"), "Proto3");
    assert.deepEqual(m.oneofDecl.map((o) => o.name), ["_maybe", "kind", "XX_maybe", "_child", "_lvl"]);
    assert.equal(field(m, "maybe").proto3Optional, true);
    assert.equal(field(m, "maybe").oneofIndex, 2);
    const desc = tricky.registry.getMessage("tricky.three.Proto3")!;
    assert.equal(desc.field.maybe!.presence, 1, "explicit presence");
    assert.deepEqual(desc.oneofs.map((o) => o.name), ["_maybe", "kind"], "synthetic oneofs are not real ones");
  });

  it("map<K, V>: a nested *Entry message with map_entry, seen by protobuf-es as a map", () => {
    const fields = message(file("tricky/proto2.proto"), "Fields");
    const entry = message(file("tricky/proto2.proto"), "Fields", "ByNameEntry");
    assert.equal(entry.options?.mapEntry, true);
    assert.deepEqual(entry.field.map((f) => [f.name, f.number]), [["key", 1], ["value", 2]]);
    assert.equal(field(fields, "by_name").typeName, ".tricky.two.Fields.ByNameEntry");
    const desc = tricky.registry.getMessage("tricky.two.Fields")!;
    assert.equal(desc.field.byName!.fieldKind, "map");
    assert.equal(desc.field.colors!.fieldKind === "map" && desc.field.colors!.mapKind, "enum");
  });

  it("proto2 groups: TYPE_GROUP fields that encode as groups (start/end tags)", () => {
    const fields = message(file("tricky/proto2.proto"), "Fields");
    assert.equal(field(fields, "item").type, Type.GROUP);
    assert.equal(field(fields, "item").typeName, ".tricky.two.Fields.Item");
    const desc = tricky.registry.getMessage("tricky.two.Fields") as DescMessage;
    const msg = reflect(desc);
    const item = reflect(tricky.registry.getMessage("tricky.two.Fields.Item")!);
    item.set(item.desc.field.x!, 5);
    (msg.get(desc.field.item!) as ReflectList).add(item);
    msg.set(desc.field.req!, "r");
    const bytes = toBinary(desc, msg.message);
    // field 7, wire type 3 (start group) = 0x3b; x = 1 varint; field 7, wire type 4 (end group) = 0x3c
    assert.ok(Buffer.from(bytes).includes(Buffer.from([0x3b, 0x08, 0x05, 0x3c])), Buffer.from(bytes).toString("hex"));
    assert.equal((reflect(desc, fromBinary(desc, bytes)).get(desc.field.item!) as ReflectList).size, 1);
  });

  it("custom options of every kind, aggregates included, are extensions of the options messages", () => {
    const reg = tricky.registry;
    const defaults = reg.getMessage("tricky.two.Defaults")!;
    const rule = getOption(defaults, reg.getExtension("tricky.opts.rule")!) as { name: string; limits: bigint[]; child?: { name: string } };
    assert.equal(rule.name, "defaults");
    assert.deepEqual(rule.limits, [1n, -2n, 16n]);
    assert.equal(rule.child?.name, "nested");
    assert.deepEqual(getOption(defaults, reg.getExtension("tricky.opts.tags")!), [1, 2]);
    const self = reg.getMessage("tricky.two.Fields")!.field.self!;
    assert.deepEqual((getOption(self, reg.getExtension("tricky.opts.field_rule")!) as { limits: bigint[] }).limits, [5n]);
    const method = reg.getService("tricky.two.Tricky")!.method.options!;
    assert.equal(getOption(method, reg.getExtension("tricky.opts.cost")!), 42);
  });

  it("google/protobuf/*.proto not on the import path come from @bufbuild/protobuf's built-in descriptors", () => {
    const dir = tree({ "a.proto": 'syntax = "proto3";\nimport "google/protobuf/timestamp.proto";\nmessage A { google.protobuf.Timestamp at = 1; }\n' });
    const loaded = loadProtoFiles({ files: ["a.proto"], importPaths: [dir], cwd: dir });
    assert.deepEqual(loaded.files.map((f) => f.name), ["google/protobuf/timestamp.proto", "a.proto"]);
    assert.equal(loaded.files[0], file_google_protobuf_timestamp.proto);
    assert.equal(loaded.registry.getMessage("A")!.field.at!.message?.typeName, "google.protobuf.Timestamp");
  });

  it("import public: an importer sees the public import's symbols; a plain import does not re-export", () => {
    assert.equal(field(message(file("tricky/proto3.proto"), "Proto3"), "color").typeName, ".tricky.base.Color");
    const dir = tree({
      "a.proto": 'syntax = "proto3";\nimport "b.proto";\nmessage A { C c = 1; }\n',
      "b.proto": 'syntax = "proto3";\nimport "c.proto";\n',
      "c.proto": 'syntax = "proto3";\nmessage C {}\n',
    });
    assert.match(loadError(() => loadProtoFiles({ files: ["a.proto"], importPaths: [dir], cwd: dir })).message, /^a\.proto:3:13: "C" seems to be defined in "c\.proto"/);
    writeFileSync(path.join(dir, "b.proto"), 'syntax = "proto3";\nimport public "c.proto";\n');
    assert.equal(loadProtoFiles({ files: ["a.proto"], importPaths: [dir], cwd: dir }).registry.getMessage("A")!.field.c!.message?.typeName, "C");
  });
});

describe("src/protofile: files and import paths (as protoc)", () => {
  const dir = tree({ "protos/pkg/a.proto": 'syntax = "proto3";\npackage pkg;\nimport "pkg/b.proto";\nmessage A { B b = 1; }\n', "protos/pkg/b.proto": 'syntax = "proto3";\npackage pkg;\nmessage B {}\n', "other/pkg/b.proto": 'syntax = "proto3";\npackage pkg;\nmessage B {}\n' });

  it("a path inside an import path is named relative to it; a name is looked up in the import paths", () => {
    const byPath = loadProtoFiles({ files: ["protos/pkg/a.proto"], importPaths: ["protos"], cwd: dir });
    assert.deepEqual(byPath.roots, ["pkg/a.proto"]);
    assert.deepEqual(byPath.files.map((f) => f.name), ["pkg/b.proto", "pkg/a.proto"]);
    const byName = loadProtoFiles({ files: ["pkg/a.proto"], importPaths: ["protos"], cwd: dir });
    assert.deepEqual(byName.roots, ["pkg/a.proto"]);
  });

  it("without an import path the current directory is one (the file keeps its path as its name)", () => {
    const f = path.join(dir, "solo.proto");
    writeFileSync(f, 'syntax = "proto3";\nmessage Solo {}\n');
    assert.deepEqual(loadProtoFiles({ files: ["solo.proto"], cwd: dir }).roots, ["solo.proto"]);
  });

  it("a file outside every import path, a file shadowed by an earlier import path, a missing file: clear errors", () => {
    assert.match(loadError(() => loadProtoFiles({ files: ["protos/pkg/a.proto"], importPaths: ["other"], cwd: dir })).message, /^protos\/pkg\/a\.proto: File does not reside within any import path \(import paths: other\)/);
    assert.match(loadError(() => loadProtoFiles({ files: ["protos/pkg/b.proto"], importPaths: ["other", "protos"], cwd: dir })).message, /^protos\/pkg\/b\.proto: Input is shadowed in the import paths by "other\/pkg\/b\.proto"/);
    assert.match(loadError(() => loadProtoFiles({ files: ["nope.proto"], importPaths: ["protos"], cwd: dir })).message, /^nope\.proto: File not found \(import paths: protos\)\. \[ERR_SB_BAD_PROTO\]$/);
  });

  it("imports are searched in import path order", () => {
    writeFileSync(path.join(dir, "other/pkg/b.proto"), 'syntax = "proto3";\npackage pkg;\nmessage B { int32 from_other = 1; }\n');
    const loaded = loadProtoFiles({ files: ["pkg/a.proto"], importPaths: ["protos", "other"], cwd: dir });
    assert.equal(loaded.registry.getMessage("pkg.B")!.fields.length, 0);
    const reversed = loadProtoFiles({ files: ["pkg/a.proto"], importPaths: ["other", "protos"], cwd: dir });
    assert.equal(reversed.registry.getMessage("pkg.B")!.fields.length, 1);
  });
});


