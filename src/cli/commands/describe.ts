// switchboard describe HOST:PORT [SYMBOL...]: services, methods, messages, enums, fields... as
// proto-like text, from the descriptors the server sends by reflection.
import type { Command } from "../command.js";
import { CONNECTION_HELP, CONNECTION_OPTIONS, usageError, type ConnectionValues } from "../options.js";
import { describe as describeText } from "../proto-text.js";
import { reportFailure } from "../report.js";
import { openSession } from "../session.js";

interface Values extends ConnectionValues {
  timeout?: string;
}

export const describe: Command = {
  name: "describe",
  summary: "describe HOST:PORT [SYMBOL...]    print a service, method, message or enum as proto text",
  help: `usage: switchboard describe HOST:PORT [SYMBOL...] [options]

Prints each SYMBOL in proto syntax: a service (pkg.Service), a method (pkg.Service.Method), a
message or enum (pkg.Type, nested: pkg.Outer.Inner), a field or oneof (pkg.Type.name), an enum
value (pkg.VALUE) or an extension. Without SYMBOL: every service the server lists.

options:
  --timeout DUR              deadline of the reflection stream (default 10s)
${CONNECTION_HELP}

exit status: 0 on success, 1 for usage errors or an unknown symbol, 64 + the gRPC status code
when a call fails.
`,
  options: { ...CONNECTION_OPTIONS, timeout: { type: "string" } },
  async run(raw, positionals, io) {
    const values = raw as Values;
    const [target, ...symbols] = positionals;
    if (!target) throw usageError("describe takes HOST:PORT and optionally SYMBOLs");
    const session = openSession(target, values);
    try {
      const names = symbols.length > 0 ? symbols : (await session.reflection.listServices()).sort();
      const texts: string[] = [];
      for (const name of names) texts.push(describeText(await session.descriptors.lookup(name)));
      io.stdout.write(texts.join("\n"));
      return 0;
    } catch (err) {
      return reportFailure(io, err);
    } finally {
      session.close();
    }
  },
};
