import type { DescMessage } from "@bufbuild/protobuf";
import { protoCodec } from "../codec/codec.js";
import { adaptStreamHandler, type StreamHandler } from "../call/shapes.js";
import { ErrorCode, SwitchboardError } from "../errors.js";
import { parsePath, type MethodDefinition, type MethodKind } from "./method.js";

/**
 * One entry of a method map (grpclib `Handler(func, cardinality, request_type, reply_type)`):
 * a stream-style handler, the call type, and optional schemas.
 */
export interface MappedMethod {
  kind: MethodKind;
  handler: StreamHandler<any, any>;
  /** Without schemas the codec decides the message shape: bytes for protobuf, values for JSON. */
  input?: DescMessage;
  output?: DescMessage;
}

const KINDS = new Set<unknown>(["unary", "server_streaming", "client_streaming", "bidi_streaming"]);

/**
 * Method definitions from a map of wire paths (grpclib `__mapping__`), for services with no
 * .proto: `server.addMethods(methodMap({ "/ping.PingService/Ping": { kind: "unary", handler } }))`.
 */
export function methodMap(mapping: Record<string, MappedMethod>): MethodDefinition[] {
  return Object.entries(mapping).map(([path, m]) => {
    const parts = parsePath(path);
    if (!parts) throw new SwitchboardError(ErrorCode.BAD_HANDLER, `method path ${JSON.stringify(path)} is not /package.Service/Method`);
    if (!KINDS.has(m?.kind)) throw new SwitchboardError(ErrorCode.BAD_HANDLER, `${path} needs kind unary, server_streaming, client_streaming or bidi_streaming`);
    if (typeof m.handler !== "function") throw new SwitchboardError(ErrorCode.BAD_HANDLER, `${path} needs a handler function`);
    return {
      path,
      service: parts.service,
      name: parts.name,
      kind: m.kind,
      input: m.input,
      output: m.output,
      handler: adaptStreamHandler(m.handler),
      // application/grpc calls: protobuf when there are schemas, bytes otherwise.
      deserialize: (bytes: Uint8Array) => protoCodec.decode(bytes, m.input),
      serialize: (message: unknown) => protoCodec.encode(message, m.output),
    };
  });
}
