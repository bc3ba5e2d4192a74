// The grpc-status check before (and after) every measured run. h2load counts any HTTP 200 as
// success and cannot see gRPC errors, so one request exactly like h2load's (same method, path,
// headers and body) is sent with node:http2 and its trailers and messages are checked.
import http2 from "node:http2";

export interface CheckResult {
  httpStatus: number;
  grpcStatus: string | undefined;
  grpcMessage: string | undefined;
  /** Complete gRPC messages in the response, and the total of their lengths. */
  messages: number;
  messageBytes: number;
  firstMessage: Buffer | undefined;
}

export function grpcRequest(port: number, path: string, body: Buffer, timeoutMs = 10_000): Promise<CheckResult> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error(`no complete response to ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      session.destroy();
      reject(err);
    };
    session.on("error", fail);
    // h2load's request: pseudo-headers, user-agent, the two -H headers, content-length.
    const stream = session.request({
      ":method": "POST",
      ":path": path,
      ":scheme": "http",
      ":authority": `127.0.0.1:${port}`,
      "user-agent": "h2load nghttp2/1.52.0",
      "content-type": "application/grpc",
      te: "trailers",
      "content-length": String(body.length),
    });
    let httpStatus = 0;
    let grpcStatus: string | undefined;
    let grpcMessage: string | undefined;
    const chunks: Buffer[] = [];
    stream.on("response", (headers) => {
      httpStatus = Number(headers[":status"]);
      // Trailers-only responses carry the status in the headers.
      if (headers["grpc-status"] !== undefined) grpcStatus = String(headers["grpc-status"]);
      if (headers["grpc-message"] !== undefined) grpcMessage = decodeURIComponent(String(headers["grpc-message"]));
    });
    stream.on("trailers", (trailers) => {
      if (trailers["grpc-status"] !== undefined) grpcStatus = String(trailers["grpc-status"]);
      if (trailers["grpc-message"] !== undefined) grpcMessage = decodeURIComponent(String(trailers["grpc-message"]));
    });
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("error", fail);
    stream.on("close", () => {
      clearTimeout(timer);
      session.close();
      const data = Buffer.concat(chunks);
      let messages = 0;
      let messageBytes = 0;
      let firstMessage: Buffer | undefined;
      let off = 0;
      while (off + 5 <= data.length) {
        const len = data.readUInt32BE(off + 1);
        if (off + 5 + len > data.length) break;
        firstMessage ??= data.subarray(off + 5, off + 5 + len);
        messages++;
        messageBytes += len;
        off += 5 + len;
      }
      resolve({ httpStatus, grpcStatus, grpcMessage, messages, messageBytes, firstMessage });
    });
    stream.end(body);
  });
}

/**
 * Checks one response: HTTP 200, grpc-status 0, and whatever `expect` says about the
 * messages. Throws with a clear message otherwise.
 */
export async function checkOk(server: string, port: number, path: string, body: Buffer, expect: (r: CheckResult) => string | undefined): Promise<void> {
  const r = await grpcRequest(port, path, body).catch((err: Error) => {
    throw new Error(`${server}: check request ${path} failed: ${err.message}`);
  });
  if (r.httpStatus !== 200) throw new Error(`${server}: ${path} answered HTTP ${r.httpStatus}`);
  if (r.grpcStatus !== "0") {
    throw new Error(`${server}: ${path} answered grpc-status ${r.grpcStatus ?? "(none)"}${r.grpcMessage ? ` (${r.grpcMessage})` : ""}, not 0`);
  }
  const problem = expect(r);
  if (problem) throw new Error(`${server}: ${path}: ${problem}`);
}
