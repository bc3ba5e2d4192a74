import type { Deadline } from "../deadline.js";
import type { Metadata } from "../metadata.js";
import type { MethodInfo } from "../service/method.js";
import type { Code, StatusDetail } from "../status.js";
import type { ServerStream } from "./context.js";

/**
 * The handler a RecvRequest listener may swap in: a grpclib-style stream handler that
 * drives the whole call (receive, send, return or throw for the status).
 */
export type RecvRequestHandler = (stream: ServerStream<any, any>) => Promise<void> | void;

/** After the request headers arrived, before the handler runs: metadata and handler are mutable. */
export interface RecvRequestEvent {
  metadata: Metadata;
  handler: RecvRequestHandler;
  /** `/package.Service/Method` */
  readonly method: string;
  readonly methodInfo: MethodInfo;
  readonly deadline: Deadline | undefined;
  readonly contentType: string;
  readonly userAgent: string | undefined;
  readonly peer: string;
}

/** After a request message was decoded: the message is mutable. */
export interface ServerRecvMessageEvent {
  message: unknown;
}

/** Before a response message is serialized: the message is mutable. */
export interface ServerSendMessageEvent {
  message: unknown;
}

/** Before the response headers go out: metadata is mutable. */
export interface SendInitialMetadataEvent {
  metadata: Metadata;
}

/** Before the status goes out: metadata is mutable, the status read-only. */
export interface SendTrailingMetadataEvent {
  metadata: Metadata;
  readonly status: Code;
  readonly statusMessage: string;
  readonly statusDetails: readonly StatusDetail[];
}

/** Events a Server dispatches (grpclib server-side events), by name for `listen(server, name, fn)`. */
export interface ServerEvents {
  recvRequest: RecvRequestEvent;
  recvMessage: ServerRecvMessageEvent;
  sendMessage: ServerSendMessageEvent;
  sendInitialMetadata: SendInitialMetadataEvent;
  sendTrailingMetadata: SendTrailingMetadataEvent;
}
