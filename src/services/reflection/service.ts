// gRPC server reflection (https://github.com/grpc/grpc/blob/master/doc/server-reflection.md),
// grpc.reflection.v1 and v1alpha: `ServerReflectionInfo` answers each request on the stream with
// one response, in order.
import { create, type DescFile } from "@bufbuild/protobuf";
import * as v1 from "../../gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import type { Server } from "../../server/server.js";
import type { ServiceImpl } from "../../service/typed.js";
import { Code } from "../../status.js";
import { DescriptorIndex, type ReflectionSource } from "./index-files.js";

/** A reflection request of either version (their fields are the same). */
export interface ReflectionRequest {
  host: string;
  messageRequest:
    | { case: "fileByFilename" | "fileContainingSymbol" | "allExtensionNumbersOfType" | "listServices"; value: string }
    | { case: "fileContainingExtension"; value: { containingType: string; extensionNumber: number } }
    | { case: undefined; value?: undefined };
}

/** The answer to one request, before it becomes a v1 or v1alpha response message. */
export type ReflectionAnswer =
  | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
  | { case: "allExtensionNumbersResponse"; value: { baseTypeName: string; extensionNumber: number[] } }
  | { case: "listServicesResponse"; value: { service: { name: string }[] } }
  | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } };

export interface ReflectionOptions {
  /** Also list the reflection services themselves (both versions). Default true, like grpc-go. */
  listSelf?: boolean;
  /** Make google/protobuf/*.proto (any, api, descriptor, duration, empty, field_mask, source_context, struct, timestamp, type, wrappers) resolvable. Default true. */
  wellKnownTypes?: boolean;
}

/**
 * Server reflection for the given services (listed by `list_services`, their files resolvable)
 * and files (resolvable only), with everything they import. Register it with `register(server)`
 * or `addReflection(server, services)`; both grpc.reflection.v1 and v1alpha are served.
 *
 * File requests (`file_by_filename`, `file_containing_symbol`, `file_containing_extension`) are
 * answered with the serialized FileDescriptorProto of the file first, then of every file it
 * imports transitively, each once per response. Unknown names get an `error_response` with
 * NOT_FOUND and the stream stays open.
 */
export class ReflectionService {
  readonly index: DescriptorIndex;
  /** Handlers for `server.addService(v1.ServerReflection, reflection.v1)`. */
  readonly v1: ServiceImpl<typeof v1.ServerReflection>;
  /** Handlers for `server.addService(v1alpha.ServerReflection, reflection.v1alpha)`. */
  readonly v1alpha: ServiceImpl<typeof v1alpha.ServerReflection>;

  constructor(sources: Iterable<ReflectionSource>, options: ReflectionOptions = {}) {
    const all = [...sources];
    if (options.listSelf !== false) all.push(v1.ServerReflection, v1alpha.ServerReflection);
    this.index = new DescriptorIndex(all, { wellKnownTypes: options.wellKnownTypes !== false });
    const answer = (request: ReflectionRequest) => this.answer(request);
    this.v1 = {
      async *serverReflectionInfo(requests) {
        for await (const request of requests) {
          yield create(v1.ServerReflectionResponseSchema, { validHost: request.host, originalRequest: request, messageResponse: answer(request) });
        }
      },
    };
    this.v1alpha = {
      async *serverReflectionInfo(requests) {
        for await (const request of requests) {
          yield create(v1alpha.ServerReflectionResponseSchema, { validHost: request.host, originalRequest: request, messageResponse: answer(request) });
        }
      },
    };
  }

  /** Registers grpc.reflection.v1.ServerReflection and grpc.reflection.v1alpha.ServerReflection on `server`. */
  register(server: Pick<Server, "addService">): this {
    server.addService(v1.ServerReflection, this.v1);
    server.addService(v1alpha.ServerReflection, this.v1alpha);
    return this;
  }

  /** The answer to one request (version independent). */
  answer(request: ReflectionRequest): ReflectionAnswer {
    const r = request.messageRequest;
    switch (r.case) {
      case "listServices":
        return { case: "listServicesResponse", value: { service: this.index.listServices().map((name) => ({ name })) } };
      case "fileByFilename":
        return this.files(this.index.fileByName(r.value), `file ${JSON.stringify(r.value)} not found`);
      case "fileContainingSymbol":
        return this.files(this.index.fileContainingSymbol(r.value), `symbol ${JSON.stringify(r.value)} not found`);
      case "fileContainingExtension": {
        const { containingType, extensionNumber } = r.value;
        return this.files(this.index.fileContainingExtension(containingType, extensionNumber), `extension ${extensionNumber} of ${JSON.stringify(containingType)} not found`);
      }
      case "allExtensionNumbersOfType": {
        const numbers = this.index.extensionNumbersOf(r.value);
        if (!numbers) return notFound(`type ${JSON.stringify(r.value)} not found`);
        return { case: "allExtensionNumbersResponse", value: { baseTypeName: r.value.replace(/^\./, ""), extensionNumber: numbers } };
      }
      default:
        return { case: "errorResponse", value: { errorCode: Code.INVALID_ARGUMENT, errorMessage: "the request names no message_request" } };
    }
  }

  private files(file: DescFile | undefined, missing: string): ReflectionAnswer {
    if (!file) return notFound(missing);
    return { case: "fileDescriptorResponse", value: { fileDescriptorProto: this.index.withDependencies(file).map((f) => this.index.encode(f)) } };
  }
}

function notFound(message: string): ReflectionAnswer {
  return { case: "errorResponse", value: { errorCode: Code.NOT_FOUND, errorMessage: message } };
}

/**
 * Adds server reflection (v1 and v1alpha) for `services` (and any extra files) to `server`
 * (grpclib `ServerReflection.extend`, grpcio `enable_server_reflection`).
 */
export function addReflection(
  server: Pick<Server, "addService"> & { readonly services?: readonly ReflectionSource[] },
  services?: Iterable<ReflectionSource>,
  options?: ReflectionOptions,
): ReflectionService {
  // Without a list: every typed service registered on the server so far.
  return new ReflectionService(services ?? server.services ?? [], options).register(server);
}
