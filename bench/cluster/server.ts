// The cluster benchmark's server: serveWorkers() with bench/cluster/worker.ts.
//   node --import tsx bench/cluster/server.ts --workers 2 --port 0
// Prints `listening on 127.0.0.1:<port>` once every worker serves; stops (drains) when stdin closes.
import { serveWorkers } from "../../src/cluster/index.js";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
};

const cluster = await serveWorkers({ module: new URL("./worker.ts", import.meta.url), workers: arg("--workers", 1), port: arg("--port", 0) });
process.stdout.write(`listening on 127.0.0.1:${cluster.port}\n`);
process.stdin.resume();
process.stdin.on("end", () => void cluster.stop(0).then(() => process.exit(0)));
