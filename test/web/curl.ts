// curl (Debian's, on PATH) run asynchronously for the web suites, with the response parsed.
import { execFile } from "node:child_process";

/** A curl run: HTTP status, response headers (lower-case names) and the body bytes. */
export interface CurlResult {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
}

/** Runs curl asynchronously (never spawnSync against an in-process server) with `-si` parsing. */
export function curl(args: string[], input?: Buffer): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    const child = execFile("curl", ["-sS", "-i", "--max-time", "20", ...args], { encoding: "buffer", maxBuffer: 64 << 20 }, (err, stdout) => {
      if (err) return reject(err);
      // With HTTP/1.1 there may be an interim 100 Continue block before the real one.
      let rest = stdout;
      for (;;) {
        const end = rest.indexOf("\r\n\r\n");
        const head = rest.subarray(0, end).toString("latin1");
        rest = rest.subarray(end + 4);
        const [statusLine, ...lines] = head.split("\r\n");
        const status = Number(statusLine!.split(" ")[1]);
        if (status === 100) continue;
        const headers = new Map<string, string>();
        for (const line of lines) {
          const i = line.indexOf(":");
          headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
        }
        return resolve({ status, headers, body: rest });
      }
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

