// switchboard call HOST:PORT pkg.Service/Method [JSON|-]: JSON in, JSON out, for any method the
// server describes by reflection (protobuf JSON mapping, google.protobuf.Any included).
import type { FileRegistry } from "@bufbuild/protobuf";
import { RpcError } from "../../status.js";
import type { Command } from "../command.js";
import { dynamicCall } from "../dynamic.js";
import { CONNECTION_HELP, CONNECTION_OPTIONS, usageError, type ConnectionValues } from "../options.js";
import { printJson, printMetadata, reportFailure } from "../report.js";
import { requestsFor } from "../requests.js";
import { openSession } from "../session.js";

interface Values extends ConnectionValues {
  timeout?: string;
  compact?: boolean;
  "emit-defaults"?: boolean;
  verbose?: boolean;
}

export const call: Command = {
  name: "call",
  summary: "call HOST:PORT pkg.Service/Method [JSON|-]   call a method: JSON in, JSON out",
  help: `usage: switchboard call HOST:PORT pkg.Service/Method [JSON|-] [options]

Calls the method with requests written in the protobuf JSON mapping and prints every response
message as JSON on stdout. The schema comes from server reflection.

requests:
  JSON                       the request message ('{"name":"Ada"}'); for client-streaming and
                             bidi methods a JSON array sends several messages
  -                          read stdin: one JSON document for unary and server-streaming methods,
                             one JSON message per line for client-streaming and bidi methods
                             (each sent as soon as it is read)
  (none)                     '{}' for unary and server-streaming methods; stdin for the others

options:
  --timeout DUR              deadline of the call (sent as grpc-timeout) and of reflection
  --compact                  one JSON message per line instead of pretty-printed
  --emit-defaults            print fields that hold their default value too
  -v, --verbose              print response headers and trailers on stderr
${CONNECTION_HELP}

exit status: 0 when the call ends with OK; 64 + the gRPC status code otherwise (as grpcurl), with
'ERROR: CODE: message' and any rich error details on stderr; 1 for usage errors, bad request
JSON or an unknown method.
`,
  options: {
    ...CONNECTION_OPTIONS,
    timeout: { type: "string" },
    compact: { type: "boolean" },
    "emit-defaults": { type: "boolean" },
    verbose: { type: "boolean", short: "v" },
  },
  async run(raw, positionals, io) {
    const values = raw as Values;
    const [target, name, request, ...rest] = positionals;
    if (!target || !name || rest.length > 0) throw usageError("call takes HOST:PORT, pkg.Service/Method and optionally one JSON request (or -)");
    const session = openSession(target, values);
    let registry: FileRegistry | undefined;
    try {
      const method = await session.descriptors.method(name);
      registry = await session.descriptors.registryFor(method.parent.typeName);
      // Reflection is done; its stream must not outlive a long call (it has its own deadline).
      session.reflection.close();
      const json = { registry, emitDefaults: values["emit-defaults"] ?? false };
      const requests = await requestsFor(method, request, io.stdin, json);
      const trailers = await dynamicCall(
        session.channel,
        method,
        requests,
        { ...json, metadata: session.metadata, timeout: session.timeoutMs },
        {
          onHeaders: values.verbose ? (md) => printMetadata(io, "Response headers", md) : undefined,
          onMessage: (message) => printJson(io, message, values.compact ?? false),
        },
      );
      if (values.verbose) printMetadata(io, "Response trailers", trailers);
      return 0;
    } catch (err) {
      if (values.verbose && err instanceof RpcError) printMetadata(io, "Response trailers", err.metadata);
      return reportFailure(io, err, async (typeName) => registry?.getMessage(typeName) ?? session.descriptors.message(typeName));
    } finally {
      session.close();
    }
  },
};
