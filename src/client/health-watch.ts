// Client-side health checking (gRPC A17): one grpc.health.v1.Health/Watch stream per ready
// connection of a subchannel. Each answer says whether the subchannel may take calls. A server
// without the health service (UNIMPLEMENTED) counts as serving, as in gRPC, with one warning.
// Any other end of the stream counts as not serving, and the watch is opened again after a
// pause (at once if the stream had delivered an answer: the server just restarted the watch).
import { constants } from "node:http2";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { EnvelopeReader, frameMessage } from "../codec/envelope.js";
import { HealthCheckRequestSchema, HealthCheckResponse_ServingStatus, HealthCheckResponseSchema } from "../gen/grpc/health/v1/health_pb.js";
import type { ClientSessionLike, ClientStreamLike } from "../grpc/transport.js";
import { Code } from "../status.js";

const WATCH_PATH = "/grpc.health.v1.Health/Watch";
/** Pause before watching again after a failed watch that never answered. */
const REWATCH_MS = 1000;
/** Health answers are tiny; anything larger is a broken peer. */
const MAX_ANSWER = 64 * 1024;

let warnedUnimplemented = false;

export interface HealthWatchOptions {
  scheme: string;
  authority: string;
  serviceName: string;
  /** The address, for the warning. */
  where: string;
}

/** Watches health on `session` and reports every change; returns a function that stops watching. */
export function watchHealth(session: ClientSessionLike, options: HealthWatchOptions, report: (serving: boolean) => void): () => void {
  let stopped = false;
  let stream: ClientStreamLike | undefined;
  let timer: NodeJS.Timeout | undefined;
  const open = () => {
    timer = undefined;
    if (stopped || session.closed || session.destroyed) return;
    let answered = false;
    let status: number | undefined;
    try {
      stream = session.request({
        ":method": "POST",
        ":path": WATCH_PATH,
        ":scheme": options.scheme,
        ":authority": options.authority,
        "content-type": "application/grpc",
        te: "trailers",
      });
    } catch {
      return; // The session is going away; the subchannel watches again on its next connection.
    }
    const s = stream;
    const reader = new EnvelopeReader(MAX_ANSWER, {
      onEnvelope: (env) => {
        if (env.compressed) return;
        let serving: boolean;
        try {
          serving = fromBinary(HealthCheckResponseSchema, env.data).status === HealthCheckResponse_ServingStatus.SERVING;
        } catch {
          serving = false;
        }
        answered = true;
        report(serving);
      },
      onFramingError: () => s.close(constants.NGHTTP2_CANCEL),
    });
    const onStatus = (headers: Record<string, unknown>) => {
      if (headers["grpc-status"] !== undefined) status = Number(headers["grpc-status"]);
    };
    s.on("error", () => {});
    s.on("response", onStatus);
    s.on("trailers", onStatus);
    s.on("data", (chunk: Buffer) => reader.push(chunk));
    s.on("close", () => {
      if (stopped || session.closed || session.destroyed) return;
      if (status === Code.UNIMPLEMENTED) {
        if (!warnedUnimplemented) {
          warnedUnimplemented = true;
          process.emitWarning(`health checking: ${options.where} does not implement grpc.health.v1.Health; treating it as serving`, { type: "SwitchboardWarning", code: "SB_HEALTH_UNIMPLEMENTED" });
        }
        report(true);
        return;
      }
      report(false);
      timer = setTimeout(open, answered ? 0 : REWATCH_MS);
      timer.unref();
    });
    s.end(frameMessage(toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, { service: options.serviceName })), false));
  };
  open();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    if (stream && !stream.closed && !stream.destroyed) stream.close(constants.NGHTTP2_CANCEL);
  };
}
