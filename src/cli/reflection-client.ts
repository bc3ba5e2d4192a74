// A server reflection client (grpc.reflection.v1, falling back to v1alpha when the server answers
// UNIMPLEMENTED) on our own Channel and the generated reflection service. Requests go one at a
// time over a single ServerReflectionInfo stream, which the protocol answers in order.
import { fromBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import type { Channel } from "../client/channel.js";
import { ClientCall } from "../client/client-call.js";
import { clientMethod } from "../client/typed.js";
import { ErrorCode, SwitchboardError } from "../errors.js";
import type { Metadata } from "../metadata.js";
import { Code, RpcError } from "../status.js";
import * as v1 from "../gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../gen/grpc/reflection/v1alpha/reflection_pb.js";

export type ReflectionVersion = "v1" | "v1alpha";

// Both versions have the same messages; only the package differs. Requests are sent as init
// objects (no $typeName), which the serializer turns into whichever version the call uses.
type Request = MessageInitShape<typeof v1.ServerReflectionRequestSchema>;
type Answer = v1.ServerReflectionResponse["messageResponse"];

const METHODS = {
  v1: clientMethod(v1.ServerReflection.method.serverReflectionInfo),
  v1alpha: clientMethod(v1alpha.ServerReflection.method.serverReflectionInfo),
};

export interface ReflectionClientOptions {
  /** Metadata sent with the reflection stream (e.g. authorization). */
  metadata?: Metadata;
  /** Deadline of each reflection stream, in ms (default 10 s): a silent server cannot hang us. */
  timeoutMs?: number;
}

export class ReflectionClient {
  /** The version the server answered with; undefined before the first answer. */
  version: ReflectionVersion | undefined;
  private call: ClientCall<Request, v1.ServerReflectionResponse> | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly channel: Channel,
    private readonly options: ReflectionClientOptions = {},
  ) {}

  /** The full names of the services the server lists. */
  async listServices(): Promise<string[]> {
    const answer = await this.ask({ case: "listServices", value: "*" });
    if (answer.case !== "listServicesResponse") throw unexpected("list_services", answer);
    return answer.value.service.map((s) => s.name);
  }

  /** The file declaring `symbol` (first), then the files the server sends along (its imports). */
  fileContainingSymbol(symbol: string): Promise<FileDescriptorProto[]> {
    return this.files({ case: "fileContainingSymbol", value: symbol }, `symbol ${JSON.stringify(symbol)}`);
  }

  /** The file named `name` (first), then the files the server sends along. */
  fileByFilename(name: string): Promise<FileDescriptorProto[]> {
    return this.files({ case: "fileByFilename", value: name }, `file ${JSON.stringify(name)}`);
  }

  /** Half-closes the stream; a later request opens a new one. */
  close(): void {
    const call = this.call;
    this.call = undefined;
    if (call) void call.end().catch(() => {
      // The stream already ended; nothing is waiting for it.
    });
  }

  private async files(request: Request["messageRequest"], what: string): Promise<FileDescriptorProto[]> {
    const answer = await this.ask(request);
    if (answer.case !== "fileDescriptorResponse") throw unexpected("a file request", answer);
    try {
      return answer.value.fileDescriptorProto.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
    } catch (err) {
      throw new SwitchboardError(ErrorCode.BAD_DESCRIPTOR, `the server sent an unreadable FileDescriptorProto for ${what}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Sends one request and waits for its answer; error_response NOT_FOUND becomes UNKNOWN_SYMBOL. */
  private ask(messageRequest: Request["messageRequest"]): Promise<Answer> {
    const next = this.queue.then(() => this.exchange({ messageRequest }));
    this.queue = next.catch(() => {});
    return next.then((answer) => {
      if (answer.case !== "errorResponse") return answer;
      const { errorCode, errorMessage } = answer.value;
      if (errorCode === Code.NOT_FOUND) {
        throw new SwitchboardError(ErrorCode.UNKNOWN_SYMBOL, `${describeRequest(messageRequest)} not found on the server (reflection says: ${errorMessage})`);
      }
      throw new RpcError(errorCode, `reflection: ${errorMessage}`);
    });
  }

  private async exchange(request: Request): Promise<Answer> {
    let fellBack = false;
    for (;;) {
      const version = this.version ?? "v1";
      this.call ??= new ClientCall(this.channel, METHODS[version], { metadata: this.options.metadata, timeout: this.options.timeoutMs ?? 10_000 });
      const call = this.call;
      try {
        await call.sendMessage(request);
        const response = await call.recvMessage();
        if (response === null) throw new RpcError(Code.INTERNAL, "the reflection stream ended without an answer");
        this.version = version;
        return response.messageResponse;
      } catch (err) {
        this.call = undefined;
        // Older servers (grpc-java before 1.57, many others) only have v1alpha.
        if (this.version === undefined && err instanceof RpcError && err.code === Code.UNIMPLEMENTED) {
          this.version = "v1alpha";
          fellBack = true;
          continue;
        }
        if (fellBack && err instanceof RpcError && err.code === Code.UNIMPLEMENTED) {
          this.version = undefined;
          throw new RpcError(Code.UNIMPLEMENTED, `the server has no reflection service (neither grpc.reflection.v1 nor v1alpha): ${err.rawMessage}`, { metadata: err.metadata });
        }
        throw err;
      }
    }
  }
}

function describeRequest(r: Request["messageRequest"]): string {
  switch (r?.case) {
    case "fileContainingSymbol":
      return `symbol ${JSON.stringify(r.value)}`;
    case "fileByFilename":
      return `file ${JSON.stringify(r.value)}`;
    default:
      return "the requested name";
  }
}

function unexpected(request: string, answer: Answer): RpcError {
  return new RpcError(Code.INTERNAL, `reflection answered ${request} with ${answer.case ?? "nothing"}`);
}
