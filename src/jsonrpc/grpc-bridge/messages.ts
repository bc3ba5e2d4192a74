// JSON-RPC params <-> protobuf messages for the gRPC bridge, in the protobuf JSON mapping
// (protobuf-es fromJson / toJson): int64 as strings, bytes as base64, enums by name, the
// well-known types in their special forms, unknown fields refused unless asked otherwise.
import { createRegistry, fromJson, type DescFile, type DescMessage, type JsonReadOptions, type JsonValue, type Registry } from "@bufbuild/protobuf";
import { detailTypes } from "../../rich-details.js";
import { isUnaryRequest, type MethodKind } from "../../service/method.js";

/**
 * The types JSON needs to resolve (google.protobuf.Any, extensions): every file the given
 * messages are defined in, with everything those files import, plus the rich error detail
 * types and the caller's own registry (which wins on a name defined in both).
 */
export function bridgeRegistry(messages: Iterable<DescMessage>, extra: Registry | undefined): Registry {
  const files = new Map<string, DescFile>();
  const visit = (file: DescFile): void => {
    if (files.has(file.name)) return;
    files.set(file.name, file);
    for (const dep of file.dependencies) visit(dep);
  };
  for (const m of messages) visit(m.file);
  return extra === undefined ? createRegistry(detailTypes, ...files.values()) : createRegistry(detailTypes, ...files.values(), extra);
}

/** Why params do not fit: the text of the -32602 error's data. */
export class ParamsProblem {
  constructor(readonly text: string) {}
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function decodeOne(schema: DescMessage, json: unknown, read: Partial<JsonReadOptions>, where: string): unknown {
  try {
    return fromJson(schema, json as JsonValue, read);
  } catch (err) {
    return new ParamsProblem(`${where}${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * The request messages a JSON-RPC call's params stand for, or the problem with them.
 *
 * - unary and server-streaming methods take one message: named params are that message;
 *   positional params are `[message]`; absent params or `[]` are the empty message.
 * - client-streaming and bidi methods take a list: positional params are the messages;
 *   named params are `{"messages": [...]}`; absent params are no messages.
 */
export function decodeRequests(
  kind: MethodKind,
  schema: DescMessage,
  params: unknown,
  read: Partial<JsonReadOptions>,
  maxMessages: number,
): unknown[] | ParamsProblem {
  if (isUnaryRequest(kind)) {
    let json: unknown;
    if (params === undefined) json = {};
    else if (Array.isArray(params)) {
      if (params.length > 1) return new ParamsProblem(`${schema.typeName} is one request message: pass it as named params or as [message], not ${params.length} positional params`);
      json = params.length === 0 ? {} : params[0];
    } else json = params;
    const message = decodeOne(schema, json, read, "");
    return message instanceof ParamsProblem ? message : [message];
  }
  let list: readonly unknown[];
  if (params === undefined) list = [];
  else if (Array.isArray(params)) list = params;
  else if (isObject(params)) {
    const extra = Object.keys(params).find((k) => k !== "messages");
    if (extra !== undefined) return new ParamsProblem(`named params of a client-streaming method are {"messages": [...]}; unknown key ${JSON.stringify(extra)}`);
    if (!Array.isArray(params["messages"])) return new ParamsProblem(`"messages" must be an array of ${schema.typeName} messages`);
    list = params["messages"];
  } else return new ParamsProblem("params must be an array of messages or {\"messages\": [...]}");
  if (list.length > maxMessages) return new ParamsProblem(`${list.length} request messages exceed the limit of ${maxMessages}`);
  const messages: unknown[] = [];
  for (const [i, json] of list.entries()) {
    const message = decodeOne(schema, json, read, `messages[${i}]: `);
    if (message instanceof ParamsProblem) return message;
    messages.push(message);
  }
  return messages;
}
