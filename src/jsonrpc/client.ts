// tinyrpc's RPCClient over any protocol and client transport, with what 0.6 lacks: error
// responses reject with a JSONRPCError keeping code, message and data; batches work; replies
// are validated strictly (a wrong id, a malformed object: BAD_REPLY).

import { ErrorCode, SwitchboardError } from "../errors.js";
import type { JSONRPCError } from "./errors.js";
import type { RequestId, RPCParams, RPCProtocol, RPCRequest, RPCResponse } from "./protocol.js";
import type { ClientTransport } from "./transport.js";

/** One call of a batch. `notify: true` sends it without id (no result comes back). */
export interface BatchCall {
  readonly method: string;
  readonly params?: RPCParams;
  readonly notify?: boolean;
}

/** Outcome of one batch entry, in the order of the calls. Notifications yield `{ ok: true, result: undefined }`. */
export type BatchResult = { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly error: JSONRPCError | SwitchboardError };

/** The callable view of a remote object (see `getProxy`): every method returns a promise. */
export type RPCProxy<T> = { readonly [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never };

function sameId(a: RequestId | undefined, b: RequestId): boolean {
  return a === b;
}

export class RPCClient {
  constructor(
    readonly protocol: RPCProtocol,
    readonly transport: ClientTransport,
  ) {}

  /**
   * Calls `method` with positional (array) or named (object) params and resolves with the
   * result. Rejects with a `JSONRPCError` for an error response, a `SwitchboardError`
   * (`BAD_REPLY`, transport codes) otherwise.
   */
  async call<R = unknown>(method: string, params?: RPCParams): Promise<R> {
    const request = this.protocol.createRequest(method, params, false);
    const reply = await this.transport.sendMessage(this.protocol.serializeRequest(request), true);
    if (reply === undefined) throw new SwitchboardError(ErrorCode.BAD_REPLY, `the transport returned no reply to ${JSON.stringify(method)}`);
    const parsed = this.protocol.parseReply(reply);
    if (parsed.batch || parsed.responses.length !== 1) throw new SwitchboardError(ErrorCode.BAD_REPLY, "a batch reply to a single request");
    const response = parsed.responses[0]!;
    // an error about the request as a whole (parse error, invalid request) may carry id null
    if (!sameId(request.id, response.id) && !(response.id === null && !response.ok)) {
      throw new SwitchboardError(ErrorCode.BAD_REPLY, `reply id ${JSON.stringify(response.id)} does not match request id ${JSON.stringify(request.id)}`);
    }
    if (!response.ok) throw response.error;
    return response.result as R;
  }

  /** Sends a notification: no id, no response; resolves once the transport has handed it over. */
  async notify(method: string, params?: RPCParams): Promise<void> {
    const request = this.protocol.createRequest(method, params, true);
    await this.transport.sendMessage(this.protocol.serializeRequest(request), false);
  }

  /**
   * Sends the calls as one batch and resolves with one outcome per call, in order; error
   * responses are outcomes, not rejections. Rejects only when nothing usable came back
   * (transport failure, malformed reply).
   */
  async batchCall(calls: readonly BatchCall[]): Promise<BatchResult[]> {
    if (calls.length === 0) throw new SwitchboardError(ErrorCode.BAD_OPTION, "batchCall needs at least one call (an empty batch is an invalid request)");
    const requests: RPCRequest[] = calls.map((c) => this.protocol.createRequest(c.method, c.params, c.notify === true));
    const expecting = requests.some((r) => r.id !== undefined);
    const reply = await this.transport.sendMessage(this.protocol.serializeRequest(requests), true);
    const results: BatchResult[] = requests.map(() => ({ ok: true, result: undefined }));
    if (!expecting) return results; // all notifications: the reply is empty
    if (reply === undefined || reply.length === 0) throw new SwitchboardError(ErrorCode.BAD_REPLY, "empty reply to a batch with calls");
    const parsed = this.protocol.parseReply(reply);
    if (!parsed.batch) {
      // the server refused the batch as a whole (e.g. too long): that error answers every call
      const only = parsed.responses[0]!;
      if (only.ok || only.id !== null) throw new SwitchboardError(ErrorCode.BAD_REPLY, "a single response to a batch");
      return requests.map((r) => (r.id === undefined ? { ok: true, result: undefined } : { ok: false, error: only.error }));
    }
    const byId = new Map<RequestId, RPCResponse>();
    const anonymous: RPCResponse[] = [];
    for (const response of parsed.responses) {
      if (response.id === null && !response.ok) anonymous.push(response);
      else if (byId.has(response.id)) throw new SwitchboardError(ErrorCode.BAD_REPLY, `two responses with id ${JSON.stringify(response.id)}`);
      else byId.set(response.id, response);
    }
    for (const [i, request] of requests.entries()) {
      if (request.id === undefined) continue;
      const response = byId.get(request.id) ?? anonymous.shift();
      byId.delete(request.id);
      if (!response) results[i] = { ok: false, error: new SwitchboardError(ErrorCode.BAD_REPLY, `no response for batch entry ${i} (${JSON.stringify(request.method)})`) };
      else results[i] = response.ok ? { ok: true, result: response.result } : { ok: false, error: response.error };
    }
    if (byId.size > 0) throw new SwitchboardError(ErrorCode.BAD_REPLY, `responses with unknown ids ${JSON.stringify([...byId.keys()])}`);
    return results;
  }

  /**
   * A typed stand-in for the remote methods: `proxy.add(1, 2)` calls `prefix + "add"` with
   * positional params (use `call` for named params). With `oneWay` every call is a notification.
   */
  getProxy<T extends object>(prefix = "", options: { oneWay?: boolean } = {}): RPCProxy<T> {
    const cache = new Map<string, (...args: unknown[]) => Promise<unknown>>();
    return new Proxy({} as RPCProxy<T>, {
      get: (_target, key) => {
        // not a thenable: `await proxy` must not call a remote "then"
        if (typeof key !== "string" || key === "then") return undefined;
        let fn = cache.get(key);
        if (!fn) {
          const method = prefix + key;
          fn = options.oneWay ? (...args: unknown[]) => this.notify(method, args) : (...args: unknown[]) => this.call(method, args);
          cache.set(key, fn);
        }
        return fn;
      },
    });
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}
