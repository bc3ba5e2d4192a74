// JSON-RPC over HTTP POST, the client side (tinyrpc's HttpPostClientTransport, with a
// keep-alive agent instead of a connection per call, and the HTTP status checked).
import * as http from "node:http";
import * as https from "node:https";
import { ErrorCode, SwitchboardError } from "../../errors.js";
import { DEFAULT_MAX_MESSAGE_BYTES, type ClientTransport } from "../transport.js";

/** Options of `HttpClientTransport`. */
export interface HttpClientTransportOptions {
  /** Whole-call limit (connect, send, answer) in ms. Default: none. */
  timeoutMs?: number;
  /** Extra request headers. `Content-Type` defaults to `application/json`. */
  headers?: Record<string, string>;
  /** The agent to use; by default the transport owns a keep-alive agent and closes it on close(). */
  agent?: http.Agent;
  /** Reply bodies above this many bytes fail with MESSAGE_TOO_LARGE. Default 4 MiB. */
  maxReplyBytes?: number;
}

/** An HTTP answer other than 200/204: the call failed at the transport level. */
export class HttpStatusError extends SwitchboardError {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(ErrorCode.TRANSPORT, `HTTP ${status}${body ? `: ${body}` : ""}`);
  }
}

/** A `ClientTransport` that POSTs each message to one URL and returns the response body. */
export class HttpClientTransport implements ClientTransport {
  readonly url: URL;
  readonly #request: typeof http.request;
  readonly #agent: http.Agent;
  readonly #ownsAgent: boolean;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number | undefined;
  readonly #maxReply: number;
  readonly #inFlight = new Set<http.ClientRequest>();
  #closed = false;

  constructor(url: string | URL, options: HttpClientTransportOptions = {}) {
    this.url = new URL(url);
    const secure = this.url.protocol === "https:";
    if (!secure && this.url.protocol !== "http:") throw new SwitchboardError(ErrorCode.TRANSPORT, `not an http(s) URL: ${this.url.href}`);
    this.#request = secure ? https.request : http.request;
    this.#ownsAgent = options.agent === undefined;
    this.#agent = options.agent ?? new (secure ? https.Agent : http.Agent)({ keepAlive: true });
    this.#headers = { "content-type": "application/json", ...lowerKeys(options.headers ?? {}) };
    this.#timeoutMs = options.timeoutMs;
    this.#maxReply = options.maxReplyBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  /**
   * POSTs the message. Resolves to the body (empty for 204) with `expectReply`; without, the
   * (empty) answer is still read, so the connection stays reusable, and undefined is returned.
   */
  async sendMessage(message: Uint8Array, expectReply: boolean): Promise<Uint8Array | undefined> {
    if (this.#closed) throw new SwitchboardError(ErrorCode.TRANSPORT_CLOSED, "HTTP client transport is closed");
    const body = await this.#post(message);
    return expectReply ? body : undefined;
  }

  /** Aborts calls in flight and, for the transport's own agent, closes its pooled connections. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const req of this.#inFlight) req.destroy(new SwitchboardError(ErrorCode.TRANSPORT_CLOSED, "HTTP client transport closed during the call"));
    if (this.#ownsAgent) this.#agent.destroy();
  }

  #post(message: Uint8Array): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const req = this.#request(this.url, {
        method: "POST",
        agent: this.#agent,
        headers: { ...this.#headers, "content-length": message.length },
      });
      this.#inFlight.add(req);
      let timer: NodeJS.Timeout | undefined;
      if (this.#timeoutMs !== undefined) {
        timer = setTimeout(() => req.destroy(new SwitchboardError(ErrorCode.TRANSPORT, `HTTP call to ${this.url.href} timed out after ${this.#timeoutMs} ms`)), this.#timeoutMs);
      }
      let settled = false;
      const settle = (err: Error | undefined, body?: Buffer): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#inFlight.delete(req);
        if (err) reject(err);
        else resolve(body!);
      };
      req.on("error", (err) => settle(err instanceof SwitchboardError ? err : new SwitchboardError(ErrorCode.TRANSPORT, `HTTP call to ${this.url.href} failed: ${err.message}`, { cause: err })));
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const tooLarge = (): void => {
          settle(new SwitchboardError(ErrorCode.MESSAGE_TOO_LARGE, `HTTP reply exceeds ${this.#maxReply} bytes`));
          // The rest of the body is unwanted; the connection cannot be reused without reading it.
          res.destroy();
        };
        if (Number(res.headers["content-length"]) > this.#maxReply) return tooLarge();
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > this.#maxReply) return tooLarge();
          chunks.push(chunk);
        });
        res.on("end", () => {
          const body = Buffer.concat(chunks, size);
          const status = res.statusCode ?? 0;
          if (status === 200 || status === 204) settle(undefined, body);
          else settle(new HttpStatusError(status, body.toString("utf8", 0, Math.min(body.length, 200)).trim()));
        });
        res.on("error", (err) => settle(new SwitchboardError(ErrorCode.TRANSPORT, `HTTP reply from ${this.url.href} failed: ${err.message}`, { cause: err })));
      });
      req.end(message);
    });
  }
}

function lowerKeys(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}
