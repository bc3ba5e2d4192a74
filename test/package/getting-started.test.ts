// docs/getting-started.md, followed literally: in an empty folder outside the repository, every
// ```console command is run as written (`$ ` lines; `cd` moves the folder the next ones run in)
// and must exit 0 and print the lines the doc shows under it, and every ```<lang> file=PATH
// block is written to PATH when the doc reaches it. `npm install switchboard` gets the package
// packed from this tree, from a loopback registry that serves the lockfile's packages out of
// npm's cache (no network). The one liberty: the server gets PORT=0 and the doc's
// 127.0.0.1:50051 becomes the port it reports, in the later commands and outputs.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { assertNothingMissing, Background, REPO, run, sandbox, type Sandbox } from "./project.js";

const DOC = path.join(REPO, "docs", "getting-started.md");
const DOC_ADDRESS = "127.0.0.1:50051";
/** The one command that keeps running (the doc says to leave it and open a second terminal). */
const SERVER = "node dist/server.js";
const STEP_MS = 120_000;

type Step = { kind: "command"; command: string; output: string[] } | { kind: "file"; file: string; content: string };

/** The doc's steps in order: console commands with their shown output, and files to write. */
function steps(markdown: string): Step[] {
  const out: Step[] = [];
  for (const m of markdown.matchAll(/^```(\S*)([^\n]*)\n([\s\S]*?)^```$/gm)) {
    const [, lang, info, body] = m as unknown as [string, string, string, string];
    const file = /\bfile=(\S+)/.exec(info)?.[1];
    if (file) {
      out.push({ kind: "file", file, content: body });
    } else if (lang === "console") {
      for (const line of body.replace(/\n$/, "").split("\n")) {
        if (line.startsWith("$ ")) out.push({ kind: "command", command: line.slice(2), output: [] });
        else {
          const last = out[out.length - 1];
          assert.ok(last?.kind === "command", `output line before any command in a console block: ${line}`);
          last.output.push(line);
        }
      }
    } else {
      assert.fail(`a \`\`\`${lang} block that is neither \`\`\`console nor has file=PATH: the test could not run it\n${body}`);
    }
  }
  return out;
}

describe("docs/getting-started.md, followed step by step in an empty folder", { timeout: 170_000 }, () => {
  let sb: Sandbox;
  let server: Background | undefined;

  before(async () => {
    sb = await sandbox("getting-started");
  }, { timeout: 120_000 });

  after(async () => {
    server?.kill();
    await sb?.dispose();
  });

  it("the doc is made of runnable steps: init, install, generate, compile, server, client, CLI call, tsx", () => {
    const commands = steps(readFileSync(DOC, "utf8")).flatMap((s) => (s.kind === "command" ? [s.command] : []));
    const expected = [
      "npm init -y",
      "npm install switchboard @bufbuild/protobuf",
      "npx buf generate",
      "npx tsc",
      SERVER,
      `node dist/client.js ${DOC_ADDRESS}`,
      `npx switchboard call ${DOC_ADDRESS} greet.v1.GreetService/Greet '{"name":"Grace"}'`,
      `npx tsx src/client.ts ${DOC_ADDRESS}`,
    ];
    let at = -1;
    for (const command of expected) {
      const i = commands.indexOf(command, at + 1);
      assert.ok(i > at, `the doc lacks \`${command}\` (in this order); its commands: ${JSON.stringify(commands)}`);
      at = i;
    }
  });

  it("every command exits 0 and prints what the doc shows; Ctrl-C then stops the server (exit 0)", { timeout: 160_000 }, async () => {
    let cwd = sb.project;
    let address: string | undefined;
    const subst = (s: string) => (address === undefined ? s : s.split(DOC_ADDRESS).join(address));
    for (const step of steps(readFileSync(DOC, "utf8"))) {
      if (step.kind === "file") {
        const file = path.join(cwd, step.file);
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, step.content);
        continue;
      }
      const command = subst(step.command);
      const shown = step.output.map(subst);
      const cd = /^cd (\S+)$/.exec(command);
      if (cd) {
        cwd = path.resolve(cwd, cd[1]!);
        assert.ok(existsSync(cwd) && statSync(cwd).isDirectory(), `cd ${cd[1]}: no such folder`);
        continue;
      }
      if (command === SERVER) {
        assert.equal(server, undefined, "the doc starts the server twice");
        const listening = shown.find((l) => l.startsWith("listening on "));
        assert.ok(listening, "the doc shows no `listening on` line under the server command");
        server = new Background("bash", ["-c", command], { cwd, env: { ...sb.env, PORT: "0" } });
        const m = await server.waitFor(/^listening on (127\.0\.0\.1:(\d+))$/m, STEP_MS);
        address = m[1]!;
        assert.equal(server.stdout, shown.map((l) => `${l.replace(DOC_ADDRESS, address!)}\n`).join(""));
        continue;
      }
      const r = await run("bash", ["-c", command], { cwd, env: sb.env, timeoutMs: STEP_MS });
      assertNothingMissing(sb.registry);
      assert.equal(r.code, 0, `\`${command}\` exited ${r.code ?? r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
      if (shown.length > 0) assert.equal(r.stdout, shown.map((l) => `${l}\n`).join(""), `the output of \`${command}\` differs from the doc`);
    }
    assert.ok(existsSync(path.join(cwd, "src", "gen", "greet", "v1", "greet_pb.ts")), "buf generate wrote no greet_pb.ts");
    assert.ok(server, "the doc never started the server");
    // Ctrl-C: the terminal sends SIGINT to the foreground process group.
    server.signalGroup("SIGINT");
    const exited = await server.exited;
    assert.equal(exited.code, 0, `the server exited ${exited.code ?? exited.signal} on Ctrl-C\nstderr: ${server.stderr}`);
    assert.equal(server.stderr, "");
  });
});
