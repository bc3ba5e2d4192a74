// Our .proto parser (src/protofile) against protoc: every .proto of the repository and of
// Debian's grpc-proto, plus the tricky fixtures, compiled by both (`protoc --descriptor_set_out
// --include_imports`, no source info); the FileDescriptorProtos must be equal field by field,
// custom options included. No normalization is applied: none has been needed (see
// docs/cli.md). Edition 2023 postdates Debian's protoc, so the editions fixture is compared with
// `buf build` (a devDependency) instead. Files protoc rejects must be rejected by us at the same
// line and column. Without protoc (or grpc-proto, or buf) this skips locally and fails on CI.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, it, type TestContext } from "node:test";
import { create, createFileRegistry, fromBinary, toJson, type JsonValue } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { loadProtoFiles } from "../../src/protofile/index.js";
import { REPO_ROOT } from "./helpers.js";
import { BAD_CASES, writeCase } from "./protofile-cases.js";

const CI = process.env["CI"] === "true";
const GRPC_PROTO = "/usr/share/grpc-proto";
const FIXTURES = path.join(REPO_ROOT, "test", "cli", "fixtures", "protofile");
const EDITIONS = "tricky/editions.proto";
const BUF = path.join(REPO_ROOT, "node_modules", ".bin", "buf");

const protoc = findProtoc();
const work = mkdtempSync(path.join(tmpdir(), "sb-protoc-"));
after(() => rmSync(work, { recursive: true, force: true }));

/** protoc on PATH, and the include directory it adds by itself (google/protobuf/*.proto). */
function findProtoc(): { bin: string; include: string | undefined } | undefined {
  const which = spawnSync("sh", ["-c", "command -v protoc"], { encoding: "utf8" });
  const bin = which.stdout.trim();
  if (which.status !== 0 || !bin) return undefined;
  const include = path.resolve(path.dirname(realpathSync(bin)), "..", "include");
  return { bin, include: existsSync(path.join(include, "google", "protobuf", "descriptor.proto")) ? include : undefined };
}

/** Skips (locally) or fails (CI=true) when a tool is missing. */
function need(t: TestContext, what: string, present: unknown): boolean {
  if (present) return true;
  const message = `${what} is not installed (CI installs it: .ci/run)`;
  if (CI) assert.fail(message);
  t.skip(message);
  return false;
}

function protoFiles(dir: string, skip: (p: string) => boolean = () => false): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (skip(p)) continue;
    if (entry.isDirectory()) out.push(...protoFiles(p, skip));
    else if (entry.name.endsWith(".proto")) out.push(p);
  }
  return out.sort();
}

/**
 * The import root of a file: its own directory or the nearest ancestor (up to `top`) from which
 * all its imports resolve, as the repository's scripts pass -I for it.
 */
function importRoot(file: string, top: string, extra: readonly string[]): string {
  const imports = [...readFileSync(file, "utf8").matchAll(/^\s*import\s+(?:public\s+|weak\s+)?"([^"]+)"/gm)].map((m) => m[1]!);
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    if (imports.every((i) => [dir, ...extra].some((d) => existsSync(path.join(d, i))))) return dir;
    if (dir === top || dir === path.dirname(dir)) return path.dirname(file);
  }
}

/** Files grouped by import root; each group is compiled as one protoc run. */
function groups(files: readonly string[], top: string, extra: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of files) {
    const root = importRoot(f, top, extra);
    const names = out.get(root) ?? [];
    names.push(path.relative(root, f).split(path.sep).join("/"));
    out.set(root, names);
  }
  return out;
}

function compileWithProtoc(root: string, names: readonly string[], includes: readonly string[]): { set?: FileDescriptorProto[]; stderr: string } {
  const out = path.join(mkdtempSync(path.join(work, "set-")), "set.binpb");
  const r = spawnSync(protoc!.bin, [`-I${root}`, ...includes.map((i) => `-I${i}`), `--descriptor_set_out=${out}`, "--include_imports", ...names], { cwd: root, encoding: "utf8" });
  if (r.status !== 0) return { stderr: r.stderr };
  return { set: fromBinary(FileDescriptorSetSchema, readFileSync(out)).file, stderr: r.stderr };
}

/** Both sets as JSON (custom options as "[ext]" keys), file by file; the order must match too. */
function assertSameDescriptors(theirs: readonly FileDescriptorProto[], ours: readonly FileDescriptorProto[], only?: (name: string) => boolean): void {
  const pick = (files: readonly FileDescriptorProto[]) => files.filter((f) => !only || only(f.name));
  assert.deepEqual(pick(ours).map((f) => f.name), pick(theirs).map((f) => f.name), "the files, each after its imports");
  // The reference set's registry knows every custom option, so both sides print them as "[ext]".
  const reference = createFileRegistry(create(FileDescriptorSetSchema, { file: [...theirs] }));
  for (const file of pick(theirs)) {
    const mine = ours.find((f) => f.name === file.name)!;
    const json = (f: FileDescriptorProto): JsonValue => toJson(FileDescriptorProtoSchema, f, { registry: reference });
    assert.deepStrictEqual(json(mine), json(file), `${file.name}: our descriptor differs from the reference`);
  }
}

/** A file both compilers must reject: ours at a line and column that protoc's errors name too. */
function assertBothReject(display: string, ourError: string, protocStderr: string): void {
  const at = new RegExp(`^${escape(display)}:(\\d+:\\d+): `).exec(ourError)?.[1];
  assert.ok(at, `our error names a line and column: ${ourError}`);
  assert.ok(protocStderr.includes(`:${at}: `), `protoc reports ${display} at ${at} too:\n${protocStderr}`);
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function compareGroup(root: string, names: readonly string[], includes: readonly string[]): number {
  const protocResult = compileWithProtoc(root, names, includes);
  if (protocResult.set) {
    const ours = loadProtoFiles({ files: names, importPaths: [root, ...includes], cwd: root });
    assertSameDescriptors(protocResult.set, ours.files);
    return names.length;
  }
  // One of them fails: file by file, so each is checked on its own.
  let compared = 0;
  for (const name of names) {
    const single = compileWithProtoc(root, [name], includes);
    let ours: ReturnType<typeof loadProtoFiles> | undefined;
    let error = "";
    try {
      ours = loadProtoFiles({ files: [name], importPaths: [root, ...includes], cwd: root });
    } catch (err) {
      error = (err as Error).message;
    }
    if (single.set) {
      assert.ok(ours, `protoc compiles ${name} but we reject it: ${error}`);
      assertSameDescriptors(single.set, ours.files);
      compared++;
    } else {
      assert.ok(!ours, `protoc rejects ${name} but we accept it:\n${single.stderr}`);
      assertBothReject(name, error, single.stderr);
    }
  }
  return compared;
}

describe("src/protofile against protoc", () => {
  it("every .proto of the repository (examples, proto, bench, test fixtures, tricky fixtures): descriptors equal protoc's", async (t) => {
    if (!need(t, "protoc", protoc)) return;
    const includes = protoc!.include ? [protoc!.include] : [];
    const files = protoFiles(REPO_ROOT, (p) => /node_modules|\.git$|[/\\]dist$/.test(p) || p.endsWith(path.join("tricky", "editions.proto")));
    assert.ok(files.length >= 10, `found ${files.length} .proto files`);
    let compared = 0;
    for (const [root, names] of groups(files, REPO_ROOT, includes)) compared += compareGroup(root, names, includes);
    t.diagnostic(`${compared} of ${files.length} files compared with protoc ${spawnSync(protoc!.bin, ["--version"], { encoding: "utf8" }).stdout.trim()}`);
  });

  it(`Debian's grpc-proto (${GRPC_PROTO}): descriptors equal protoc's; files protoc rejects (missing imports) are rejected at the same line:col`, async (t) => {
    if (!need(t, "protoc", protoc) || !need(t, "grpc-proto", existsSync(path.join(GRPC_PROTO, "grpc")))) return;
    const includes = protoc!.include ? [protoc!.include] : [];
    const files = protoFiles(path.join(GRPC_PROTO, "grpc"));
    let compared = 0;
    for (const [root, names] of groups(files, GRPC_PROTO, includes)) compared += compareGroup(root, names, includes);
    assert.ok(compared >= 20, `compared ${compared} of ${files.length}`);
    t.diagnostic(`${compared} of ${files.length} files compared`);
  });

  it("google/protobuf/*.proto from protoc's include directory parse to protoc's descriptors (descriptor.proto: proto2, every option kind)", async (t) => {
    if (!need(t, "protoc", protoc)) return;
    if (!protoc!.include) return t.skip("protoc has no include directory with google/protobuf");
    const names = readdirSync(path.join(protoc!.include, "google", "protobuf"))
      .filter((n) => n.endsWith(".proto"))
      .map((n) => `google/protobuf/${n}`);
    assert.equal(compareGroup(protoc!.include, names, []), names.length);
  });

  it("every rejected input of protofile-cases.ts is rejected by protoc at the same line:col", async (t) => {
    if (!need(t, "protoc", protoc)) return;
    for (const c of BAD_CASES) {
      using dir = writeCase(c);
      const r = compileWithProtoc(dir.dir, [dir.file], protoc!.include ? [protoc!.include] : []);
      assert.ok(!r.set, `${c.name}: protoc accepts it`);
      let ours = "";
      try {
        loadProtoFiles({ files: [dir.file], importPaths: [dir.dir], cwd: dir.dir });
      } catch (err) {
        ours = (err as Error).message;
      }
      assert.match(ours, c.error, c.name);
      if (c.protocAt === "") continue;
      const at = /^[^:]+:(\d+:\d+): /.exec(ours)![1]!;
      assert.ok(r.stderr.includes(`:${at}: `), `${c.name}: protoc reports ${at} too:\n${r.stderr}`);
    }
  });

  it("edition 2023 (tricky/editions.proto): descriptors equal `buf build`'s", async (t) => {
    if (!need(t, "buf (npm devDependency @bufbuild/buf)", existsSync(BUF) && statSync(BUF).isFile())) return;
    const out = path.join(mkdtempSync(path.join(work, "buf-")), "editions.binpb");
    const r = spawnSync(BUF, ["build", FIXTURES, "--path", path.join(FIXTURES, EDITIONS), "--as-file-descriptor-set", "--exclude-source-info", "-o", out], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const theirs = fromBinary(FileDescriptorSetSchema, readFileSync(out)).file;
    const ours = loadProtoFiles({ files: [EDITIONS], importPaths: [FIXTURES], cwd: FIXTURES });
    // google/protobuf/*.proto come from each tool's own copy (buf's is newer than ours): only the fixture is compared.
    assertSameDescriptors(theirs, ours.files, (name) => name === EDITIONS);
  });
});
