// Where `switchboard call` gets its request messages: the JSON argument, or stdin (`-`, or no
// argument for client-streaming and bidi methods: one JSON message per line, sent as it is read).
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import type { DescMethod, JsonValue, Message } from "@bufbuild/protobuf";
import { ErrorCode, SwitchboardError } from "../errors.js";
import { requestFromJson, type JsonOptions } from "./dynamic.js";

/** The request messages for one call of `method`. */
export async function requestsFor(method: DescMethod, arg: string | undefined, stdin: Readable, options: JsonOptions): Promise<Iterable<Message> | AsyncIterable<Message>> {
  const streaming = method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming";
  if (streaming) {
    if (arg === undefined || arg === "-") return stdinMessages(method, stdin, options);
    // A JSON array is a list of messages (a message itself is always a JSON object).
    const value = parseJson(arg, "the request argument");
    const list = Array.isArray(value) ? value : [value];
    return list.map((v, i) => requestFromJson(method, v, options, Array.isArray(value) ? `request [${i}]` : "the request"));
  }
  const text = arg === "-" ? await readAll(stdin) : (arg ?? "{}");
  const value = parseJson(text, arg === "-" ? "stdin" : "the request argument");
  if (Array.isArray(value)) throw new SwitchboardError(ErrorCode.CLI_INPUT, `${method.parent.typeName}/${method.name} takes one request message, not a JSON array`);
  return [requestFromJson(method, value, options, "the request")];
}

async function* stdinMessages(method: DescMethod, stdin: Readable, options: JsonOptions): AsyncGenerator<Message> {
  const lines = createInterface({ input: stdin, crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const line of lines) {
      n++;
      if (line.trim() === "") continue;
      yield requestFromJson(method, parseJson(line, `stdin line ${n}`), options, `stdin line ${n}`);
    }
  } finally {
    lines.close();
  }
}

function parseJson(text: string, where: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (err) {
    throw new SwitchboardError(ErrorCode.CLI_INPUT, `${where} is not JSON: ${(err as Error).message}`);
  }
}

async function readAll(stream: Readable): Promise<string> {
  let text = "";
  stream.setEncoding("utf8");
  for await (const chunk of stream) text += chunk as string;
  return text;
}
