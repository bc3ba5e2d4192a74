// grpc.testing.TestService as the gRPC interop test descriptions specify the server side
// (doc/interop-test-descriptions.md in the grpc repository).
import { setTimeout as sleep } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { Code, RpcError, type ServerCallContext, type ServiceImpl } from "../../src/index.js";
import {
  PayloadSchema,
  PayloadType,
  type EchoStatus,
  type ResponseParameters,
  type SimpleRequest,
  type StreamingOutputCallRequest,
} from "../gen/grpc/testing/messages_pb.js";
import { TestService } from "../gen/grpc/testing/test_pb.js";

const ECHO_INITIAL = "x-grpc-test-echo-initial";
const ECHO_TRAILING = "x-grpc-test-echo-trailing-bin";

/** Echoes the two interop metadata keys: one into initial metadata, one into trailers. */
async function echoMetadata(ctx: ServerCallContext, compress: boolean): Promise<void> {
  // Response compression must be chosen before the headers carrying the echo go out.
  if (compress) ctx.setCompression("gzip");
  const trailing = ctx.metadata.get(ECHO_TRAILING);
  if (trailing !== undefined) ctx.setTrailingMetadata([[ECHO_TRAILING, trailing]]);
  const initial = ctx.metadata.get(ECHO_INITIAL);
  if (initial !== undefined) await ctx.sendInitialMetadata([[ECHO_INITIAL, initial]]);
}

function payload(size: number) {
  return create(PayloadSchema, { type: PayloadType.COMPRESSABLE, body: new Uint8Array(size) });
}

/** The request's expect_compressed must match how the message actually arrived. */
function checkCompression(expect: boolean | undefined, ctx: ServerCallContext): void {
  if (expect === undefined) return;
  if (expect !== ctx.lastMessageCompressed) {
    throw new RpcError(Code.INVALID_ARGUMENT, expect ? "expected a compressed message" : "expected an uncompressed message");
  }
}

function checkStatus(status: EchoStatus | undefined): void {
  if (status && status.code !== 0) throw new RpcError(status.code, status.message);
}

async function unary(request: SimpleRequest, ctx: ServerCallContext) {
  checkCompression(request.expectCompressed?.value, ctx);
  await echoMetadata(ctx, request.responseCompressed?.value === true);
  checkStatus(request.responseStatus);
  return { payload: payload(request.responseSize) };
}

async function* respond(params: readonly ResponseParameters[], ctx: ServerCallContext) {
  for (const p of params) {
    if (p.intervalUs > 0) await sleep(p.intervalUs / 1000, undefined, { signal: ctx.signal });
    if (p.compressed?.value !== true) ctx.disableNextMessageCompression();
    yield { payload: payload(p.size) };
  }
}

const wantsCompression = (r: StreamingOutputCallRequest) => r.responseParameters.some((p) => p.compressed?.value === true);

/** The interop TestService; UnimplementedCall is left out on purpose (it must answer UNIMPLEMENTED). */
export const testService: ServiceImpl<typeof TestService> = {
  emptyCall: () => ({}),
  unaryCall: unary,
  async cacheableUnaryCall(request, ctx) {
    await ctx.sendInitialMetadata({ "cache-control": "max-age=60, public" });
    return { payload: payload(request.responseSize) };
  },
  async *streamingOutputCall(request, ctx) {
    await echoMetadata(ctx, wantsCompression(request));
    yield* respond(request.responseParameters, ctx);
    checkStatus(request.responseStatus);
  },
  async streamingInputCall(requests, ctx) {
    let total = 0;
    for await (const r of requests) {
      checkCompression(r.expectCompressed?.value, ctx);
      total += r.payload?.body.length ?? 0;
    }
    return { aggregatedPayloadSize: total };
  },
  async *fullDuplexCall(requests, ctx) {
    let first = true;
    for await (const r of requests) {
      if (first) await echoMetadata(ctx, wantsCompression(r));
      first = false;
      checkStatus(r.responseStatus);
      yield* respond(r.responseParameters, ctx);
    }
    if (first) await echoMetadata(ctx, false);
  },
  async *halfDuplexCall(requests, ctx) {
    const all: StreamingOutputCallRequest[] = [];
    for await (const r of requests) all.push(r);
    await echoMetadata(ctx, all.some(wantsCompression));
    for (const r of all) {
      checkStatus(r.responseStatus);
      yield* respond(r.responseParameters, ctx);
    }
  },
};
