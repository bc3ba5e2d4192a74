// switchboard call HOST:PORT pkg.Service/Method [JSON|-]: JSON in, JSON out, for any method the
// server describes by reflection or local --proto/--protoset files describe (protobuf JSON
// mapping, google.protobuf.Any included).
import type { Registry } from "@bufbuild/protobuf";
import { RpcError } from "../../status.js";
import type { Command } from "../command.js";
import { findMethod } from "../descriptor-source.js";
import { dynamicCall } from "../dynamic.js";
import { DESCRIPTOR_HELP, DESCRIPTOR_OPTIONS } from "../local-descriptors.js";
import { CONNECTION_HELP, CONNECTION_OPTIONS, usageError } from "../options.js";
import { printJson, printMetadata, reportFailure } from "../report.js";
import { requestsFor } from "../requests.js";
import { openSession, type SessionValues } from "../session.js";

interface Values extends SessionValues {
  compact?: boolean;
  "emit-defaults"?: boolean;
  verbose?: boolean;
}

export const call: Command = {
  name: "call",
  summary: "call HOST:PORT pkg.Service/Method [JSON|-]   call a method: JSON in, JSON out",
  help: `usage: switchboard call HOST:PORT pkg.Service/Method [JSON|-] [options]

Calls the method with requests written in the protobuf JSON mapping and prints every response
message as JSON on stdout. The schema comes from server reflection, or from --proto/--protoset
files (then the server needs no reflection service).

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
${DESCRIPTOR_HELP}
${CONNECTION_HELP}

exit status: 0 when the call ends with OK; 64 + the gRPC status code otherwise (as grpcurl), with
'switchboard: call: CODE: message' and any rich error details on stderr; 1 for usage errors, bad
schema files, bad request JSON or an unknown method.
`,
  options: {
    ...CONNECTION_OPTIONS,
    ...DESCRIPTOR_OPTIONS,
    timeout: { type: "string" },
    compact: { type: "boolean" },
    "emit-defaults": { type: "boolean" },
    verbose: { type: "boolean", short: "v" },
  },
  async run(raw, positionals, io) {
    const values = raw as Values;
    const [target, name, request, ...rest] = positionals;
    if (target === undefined) throw usageError("missing HOST:PORT");
    if (name === undefined) throw usageError("missing METHOD");
    if (rest.length > 0) throw usageError(`unexpected argument ${JSON.stringify(rest[0])} (call takes HOST:PORT, METHOD and one JSON request or -)`);
    const session = openSession(target, values, true);
    let registry: Registry | undefined;
    try {
      const method = await findMethod(session.descriptors, name);
      registry = await session.descriptors.registryFor(method.parent.typeName);
      // Reflection is done; its stream must not outlive a long call (it has its own deadline).
      session.descriptors.release();
      const json = { registry, emitDefaults: values["emit-defaults"] ?? false };
      const requests = await requestsFor(method, request, io.stdin, json);
      const trailers = await dynamicCall(
        session.channel!,
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
      return reportFailure(io, "call", err, async (typeName) => registry?.getMessage(typeName) ?? session.descriptors.message(typeName));
    } finally {
      session.close();
    }
  },
};
