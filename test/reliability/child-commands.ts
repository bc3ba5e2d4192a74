// The child side of the protocol in child-server.ts, for the server scripts run as children
// (server-process.ts, unknown-paths-server.ts, worker-pool-server.ts): the `listening on` line
// with the port, then one JSON reply per stdin command line, carrying the command's id; and the
// full GC their `gc` commands run.
import { createInterface } from "node:readline";
import type { Server } from "../../src/index.js";

/** Answers one command (with its optional argument); a promise is answered when it resolves. */
export type Command = (arg: string | undefined) => object | Promise<object>;

/**
 * Binds `server` to 127.0.0.1:0 (and to `also`, when given), starts it and prints the line the
 * parent waits for; returns the port.
 */
export async function listen(server: Server, also?: string): Promise<number> {
  const port = await server.addInsecurePort("127.0.0.1:0");
  if (also) await server.addInsecurePort(also);
  server.start();
  process.stdout.write(`listening on 127.0.0.1:${port}\n`);
  return port;
}

/**
 * Answers each stdin line `[<id>] <command> [<arg>]` with one JSON line (`"id"` added when the
 * line had one); an unknown command gets `{"error": ...}`. `onEnd` runs when stdin closes.
 * Nothing is caught: a command that throws crashes the child, as it should in these tests.
 */
export function answerCommands(commands: Record<string, Command>, onEnd: () => void): void {
  const reply = (id: number | undefined, value: object) => process.stdout.write(`${JSON.stringify(id === undefined ? value : { id, ...value })}\n`);
  const rl = createInterface({ input: process.stdin });
  rl.on("line", (line) => {
    const words = line.trim().split(/\s+/);
    const id = /^\d+$/.test(words[0] ?? "") ? Number(words.shift()) : undefined;
    const [name, arg] = words;
    const command = name !== undefined && Object.hasOwn(commands, name) ? commands[name] : undefined;
    if (!command) return reply(id, { error: `unknown command ${JSON.stringify(line)}` });
    const answer = command(arg);
    if (answer instanceof Promise) void answer.then((value) => reply(id, value));
    else reply(id, answer);
  });
  rl.on("close", onEnd);
}

/** Two full GCs when the child runs with --expose-gc (none without it). */
export function fullGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
}
