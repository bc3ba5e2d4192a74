import type { Deadline } from "../deadline.js";
import type { Metadata } from "../metadata.js";
import type { Code, StatusDetail } from "../status.js";

/** Before the request headers go out: metadata is mutable. */
export interface SendRequestEvent {
  metadata: Metadata;
  readonly method: string;
  readonly deadline: Deadline | undefined;
  readonly contentType: string;
}

/** Before a message is sent: the message is mutable. */
export interface SendMessageEvent {
  message: unknown;
}

/** After a message arrived: the message is mutable. */
export interface RecvMessageEvent {
  message: unknown;
}

/** After the response headers arrived: metadata is mutable. */
export interface RecvInitialMetadataEvent {
  metadata: Metadata;
}

/** After the trailers arrived: metadata is mutable, the status read-only. */
export interface RecvTrailingMetadataEvent {
  metadata: Metadata;
  readonly status: Code;
  readonly statusMessage: string;
  readonly statusDetails: readonly StatusDetail[];
}

/** Events a Channel dispatches (grpclib client-side events). */
export interface ClientEvents {
  sendRequest: SendRequestEvent;
  sendMessage: SendMessageEvent;
  recvMessage: RecvMessageEvent;
  recvInitialMetadata: RecvInitialMetadataEvent;
  recvTrailingMetadata: RecvTrailingMetadataEvent;
}
