// switchboard ls [HOST:PORT] [SERVICE]: the services a server lists by reflection (or the local
// --proto/--protoset files define), or one service's methods.
import type { Command } from "../command.js";
import { findService } from "../descriptor-source.js";
import { DESCRIPTOR_HELP, DESCRIPTOR_OPTIONS } from "../local-descriptors.js";
import { CONNECTION_HELP, CONNECTION_OPTIONS, usageError } from "../options.js";
import { methodLine } from "../proto-text.js";
import { reportFailure } from "../report.js";
import { openSession, splitTarget, type SessionValues } from "../session.js";

interface Values extends SessionValues {
  long?: boolean;
}

export const ls: Command = {
  name: "ls",
  summary: "ls HOST:PORT [SERVICE]            list the services (server reflection), or a service's methods",
  help: `usage: switchboard ls HOST:PORT [SERVICE] [options]
       switchboard ls [HOST:PORT] [SERVICE] --proto FILE [-I DIR]... | --protoset FILE

Lists the services the server offers through server reflection (grpc.reflection.v1, or v1alpha
for older servers), sorted, one per line. With SERVICE: its methods as pkg.Service.Method.
With --proto or --protoset, lists the services those files define (and import) instead; no
server is asked, so HOST:PORT may be left out.

options:
  -l, --long                 methods as proto rpc lines, with request and response types
  --timeout DUR              deadline of the reflection stream (default 10s)
${DESCRIPTOR_HELP}
${CONNECTION_HELP}

exit status: 0 on success, 1 for usage errors, bad schema files or an unknown service, 64 + the
gRPC status code when a call fails (e.g. 76 UNIMPLEMENTED: no reflection service, 78
UNAVAILABLE).
`,
  options: { ...CONNECTION_OPTIONS, ...DESCRIPTOR_OPTIONS, long: { type: "boolean", short: "l" }, timeout: { type: "string" } },
  async run(raw, positionals, io) {
    const values = raw as Values;
    const { target, args } = splitTarget(positionals, values);
    const [service, ...rest] = args;
    if (rest.length > 0) throw usageError(`unexpected argument ${JSON.stringify(rest[0])} (ls takes HOST:PORT and one SERVICE)`);
    const session = openSession(target, values, false);
    try {
      if (service === undefined) {
        const names = await session.descriptors.listServices();
        for (const name of names.sort()) io.stdout.write(`${name}\n`);
      } else {
        const desc = await findService(session.descriptors, service);
        for (const m of desc.methods) io.stdout.write(`${values.long ? methodLine(m) : `${desc.typeName}.${m.name}`}\n`);
      }
      return 0;
    } catch (err) {
      return reportFailure(io, "ls", err);
    } finally {
      session.close();
    }
  },
};
