// The README and the docs cannot drift from the code. Every TypeScript block is either a
// committed example shown whole (`<!-- example: examples/... -->` on the line before it: the
// block must equal the file, which `npm run typecheck` checks and a test runs), or a snippet
// that compiles as it stands, alone in a file, against the library (imports from
// "switchboard", generated code under ./gen/). Links and the example and test files the
// docs name exist in this repository.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { codeBlocks, repoFile, type CodeBlock } from "../docs-example.js";
import { ROOT } from "../interop/peers.js";

/** The docs whose code blocks are checked here. */
const DOCS = [
  "README.md",
  "docs/codecs.md",
  "docs/errors.md",
  "docs/events.md",
  "docs/execution.md",
  "docs/h2.md",
  "docs/health-reflection.md",
  "docs/jsonrpc.md",
  "docs/observability.md",
  "docs/performance.md",
  "docs/rpyc.md",
  "docs/scale-out.md",
  "docs/sros.md",
  "docs/web.md",
];

const blocks = new Map(DOCS.map((doc) => [doc, codeBlocks(doc).filter((b) => b.lang === "ts")]));
const snippets = [...blocks.values()].flat().filter((b) => b.example === undefined);
const snippetFile = (b: CodeBlock) => `${b.doc.replace(/[^A-Za-z0-9]/g, "_")}_L${b.line}.ts`;

/** Every *.test.ts under test/, as text: what "a test runs it" is checked against. */
function testSources(): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith(".test.ts") && rel !== "test/docs/code-blocks.test.ts") out.set(rel, readFileSync(path.join(ROOT, rel), "utf8"));
    }
  };
  walk("test");
  return out;
}

// tsc diagnostics per snippet file, from one compiler run over all snippets.
let diagnostics = new Map<string, string[]>();
let otherDiagnostics: string[] = [];
let workDir = "";

before(async () => {
  // A project outside the repository (so no `npm run typecheck` ever sees these files), as a
  // reader's would be: "switchboard" maps to the
  // library's sources (as in this repository's tsconfig.json), ./gen/ is the examples'
  // generated code, and the compiler options are the repository's (strict).
  workDir = mkdtempSync(path.join(tmpdir(), "sb-doc-blocks-"));
  symlinkSync(path.join(ROOT, "examples", "gen"), path.join(workDir, "gen"), "dir");
  symlinkSync(path.join(ROOT, "node_modules"), path.join(workDir, "node_modules"), "dir");
  writeFileSync(path.join(workDir, "package.json"), JSON.stringify({ type: "module" }));
  writeFileSync(
    path.join(workDir, "tsconfig.json"),
    JSON.stringify({
      extends: path.join(ROOT, "tsconfig.json"),
      compilerOptions: {
        noEmit: true,
        // The inherited outDir would confine inputs to this folder; the library lives elsewhere.
        rootDir: "/",
        paths: {
          switchboard: [path.join(ROOT, "src", "index.ts")],
          "switchboard/sros": [path.join(ROOT, "src", "sros", "index.ts")],
          "switchboard/rpyc": [path.join(ROOT, "src", "rpyc", "index.ts")],
        },
      },
      include: ["*.ts"],
    }),
  );
  for (const b of snippets) writeFileSync(path.join(workDir, snippetFile(b)), b.code);
  const tsc = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");
  const output = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [tsc, "-p", workDir, "--pretty", "false"], { cwd: workDir, timeout: 120_000 }, (err, stdout, stderr) => {
      // Exit 1/2 only means "there were diagnostics"; anything else (no output at all) is a failure to run.
      if (err && !stdout) reject(new Error(`tsc did not run: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
  diagnostics = new Map();
  otherDiagnostics = [];
  for (const line of output.split("\n").filter((l) => l.trim())) {
    const file = /^([^(]+)\(\d+,\d+\)/.exec(line)?.[1];
    if (file && diagnostics.has(file)) diagnostics.get(file)!.push(line);
    else if (file && snippets.some((b) => snippetFile(b) === file)) diagnostics.set(file, [line]);
    else otherDiagnostics.push(line);
  }
});

after(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe("docs code blocks", () => {
  for (const [doc, list] of blocks) {
    const examples = list.filter((b) => b.example !== undefined);
    const standalone = list.filter((b) => b.example === undefined);

    if (examples.length > 0) {
      it(`${doc}: each example block is its committed examples/ file, whole and unchanged`, () => {
        for (const b of examples) {
          assert.match(b.example!, /^examples\/.+\.ts$/, `${doc}:${b.line}: an example must be a .ts file under examples/`);
          assert.ok(existsSync(path.join(ROOT, b.example!)), `${doc}:${b.line}: ${b.example} does not exist`);
          assert.equal(b.code, repoFile(b.example!), `${doc}:${b.line} differs from ${b.example}`);
        }
      });
    }

    if (standalone.length > 0) {
      it(`${doc}: every other ts block compiles alone (imports from "switchboard", generated code under ./gen/)`, () => {
        assert.deepEqual(otherDiagnostics, [], "tsc reported errors outside the snippets");
        const failures = standalone.flatMap((b) => (diagnostics.get(snippetFile(b)) ?? []).map((d) => `${doc}:${b.line}: ${d}`));
        assert.deepEqual(failures, [], "snippets that do not compile");
        for (const b of standalone) assert.match(b.code, /^import /m, `${doc}:${b.line}: a snippet shows its imports`);
      });
    }
  }

  it("every example a doc shows is named by a test under test/ that runs it", () => {
    const tests = testSources();
    const shown = new Set([...blocks.values()].flat().flatMap((b) => (b.example ? [b.example] : [])));
    assert.ok(shown.size > 0);
    for (const file of shown) {
      const runners = [...tests].filter(([, text]) => text.includes(file)).map(([name]) => name);
      assert.ok(runners.length > 0, `no test names ${file}`);
    }
  });

  it("links and the examples/, test/ and docs/ files the docs name exist in this repository (no paths outside it)", () => {
    const missing: string[] = [];
    for (const doc of DOCS) {
      const text = readFileSync(path.join(ROOT, doc), "utf8");
      const dir = path.dirname(path.join(ROOT, doc));
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/.test(target) || target.startsWith("#")) continue;
        const file = path.resolve(dir, decodeURIComponent(target.split("#")[0]!));
        if (!file.startsWith(ROOT)) missing.push(`${doc}: link ${target} leaves the repository`);
        else if (!existsSync(file)) missing.push(`${doc}: link ${target} -> nothing there`);
      }
      for (const m of text.matchAll(/(?<![\w/.])((?:examples|test|docs)\/[\w./-]+\.(?:ts|md|proto))/g)) {
        if (!existsSync(path.join(ROOT, m[1]!))) missing.push(`${doc}: names ${m[1]}, which does not exist`);
      }
      for (const m of text.matchAll(/(?:\.\.\/)+shared\/|\bshared\/(?:seeds|design)\//g)) missing.push(`${doc}: cites ${m[0]}, outside the repository`);
    }
    assert.deepEqual(missing, []);
  });
});
