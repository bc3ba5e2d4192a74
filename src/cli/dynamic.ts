// Calls to any method known only by its descriptor (from reflection), with JSON in and out
// through the protobuf JSON mapping, on a plain ClientCall so headers and trailers are at hand.
import { fromJson, toJson, type DescMethod, type JsonValue, type Message, type Registry } from "@bufbuild/protobuf";
import type { Channel } from "../client/channel.js";
import { ClientCall, type CallOptions } from "../client/client-call.js";
import { clientMethod } from "../client/typed.js";
import { ErrorCode, SwitchboardError } from "../errors.js";
import type { Metadata } from "../metadata.js";
import { RpcError } from "../status.js";

export interface DynamicCallHooks {
  /** Response headers, once they arrive (not for a trailers-only response). */
  onHeaders?(metadata: Metadata): void;
  /** One response message, already mapped to JSON. */
  onMessage(json: JsonValue): void | Promise<void>;
}

export interface JsonOptions {
  registry: Registry;
  /** Print fields that hold their default value too (toJson alwaysEmitImplicit). */
  emitDefaults?: boolean;
}

/** A JSON request -> a message of `method`'s input type; bad JSON is a CLI_INPUT error. */
export function requestFromJson(method: DescMethod, json: JsonValue, options: JsonOptions, where: string): Message {
  try {
    return fromJson(method.input, json, { registry: options.registry });
  } catch (err) {
    throw new SwitchboardError(ErrorCode.CLI_INPUT, `${where} is not a valid ${method.input.typeName}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Runs one call: sends every request (then half-closes), hands each response to the hooks and
 * resolves with the trailers; a non-OK status rejects with the RpcError (trailers in its
 * `metadata`). A failing request source (bad input) cancels the call and rejects with its error.
 */
export async function dynamicCall(
  channel: Channel,
  method: DescMethod,
  requests: AsyncIterable<Message> | Iterable<Message>,
  options: CallOptions & JsonOptions,
  hooks: DynamicCallHooks,
): Promise<Metadata> {
  const call = new ClientCall<Message, Message>(channel, clientMethod(method), options);
  let inputError: unknown;
  // Not awaited: the server may finish while stdin is still open; the status decides.
  void (async () => {
    try {
      await call.sendRequest();
      for await (const r of requests) await call.sendMessage(r);
      await call.end();
    } catch (err) {
      // A call that ended reports its status on the receiving side; anything else is ours.
      if (err instanceof RpcError) return;
      inputError = err;
      await call.cancel();
    }
  })();
  try {
    const headers = await call.recvInitialMetadata();
    hooks.onHeaders?.(headers);
    for (;;) {
      const message = await call.recvMessage();
      if (message === null) break;
      await hooks.onMessage(toJson(method.output, message, { registry: options.registry, alwaysEmitImplicit: options.emitDefaults ?? false }));
    }
    return await call.recvTrailingMetadata();
  } catch (err) {
    // inputError is set before the cancel that made receiving fail.
    throw inputError ?? err;
  }
}
