// switchboard ls HOST:PORT [SERVICE]: the services a server lists by reflection, or one
// service's methods.
import type { Command } from "../command.js";
import { CONNECTION_HELP, CONNECTION_OPTIONS, usageError, type ConnectionValues } from "../options.js";
import { methodLine } from "../proto-text.js";
import { reportFailure } from "../report.js";
import { openSession } from "../session.js";

interface Values extends ConnectionValues {
  long?: boolean;
  timeout?: string;
}

export const ls: Command = {
  name: "ls",
  summary: "ls HOST:PORT [SERVICE]            list the services (server reflection), or a service's methods",
  help: `usage: switchboard ls HOST:PORT [SERVICE] [options]

Lists the services the server offers through server reflection (grpc.reflection.v1, or v1alpha
for older servers), sorted, one per line. With SERVICE: its methods as pkg.Service.Method.

options:
  -l, --long                 methods as proto rpc lines, with request and response types
  --timeout DUR              deadline of the reflection stream (default 10s)
${CONNECTION_HELP}

exit status: 0 on success, 1 for usage errors or an unknown service, 64 + the gRPC status code
when a call fails (e.g. 76 UNIMPLEMENTED: no reflection service, 78 UNAVAILABLE).
`,
  options: { ...CONNECTION_OPTIONS, long: { type: "boolean", short: "l" }, timeout: { type: "string" } },
  async run(raw, positionals, io) {
    const values = raw as Values;
    const [target, service, ...rest] = positionals;
    if (!target || rest.length > 0) throw usageError("ls takes HOST:PORT and optionally one SERVICE");
    const session = openSession(target, values);
    try {
      if (service === undefined) {
        const names = await session.reflection.listServices();
        for (const name of names.sort()) io.stdout.write(`${name}\n`);
      } else {
        const desc = await session.descriptors.service(service);
        for (const m of desc.methods) io.stdout.write(`${values.long ? methodLine(m) : `${desc.typeName}.${m.name}`}\n`);
      }
      return 0;
    } catch (err) {
      return reportFailure(io, err);
    } finally {
      session.close();
    }
  },
};
