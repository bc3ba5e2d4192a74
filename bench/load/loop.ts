// The command loop of a long-lived load process: one JSON command per stdin line, one JSON
// result (or {"error": ...}) per stdout line; the process exits when stdin closes. Staying
// alive between runs keeps the client's JIT warm and saves a tsx start per run.
import { createInterface } from "node:readline";

export function serveCommands<C>(handle: (command: C) => Promise<unknown>): void {
  const lines = createInterface({ input: process.stdin });
  let chain = Promise.resolve();
  lines.on("line", (line) => {
    if (!line.trim()) return;
    chain = chain.then(async () => {
      try {
        process.stdout.write(`${JSON.stringify(await handle(JSON.parse(line) as C))}\n`);
      } catch (err) {
        process.stdout.write(`${JSON.stringify({ error: err instanceof Error ? err.message : String(err) })}\n`);
      }
    });
  });
  lines.on("close", () => void chain.finally(() => process.exit(0)));
  process.stdout.write("ready\n");
}

export const cpuMicros = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
