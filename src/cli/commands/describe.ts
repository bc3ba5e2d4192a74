// switchboard describe [HOST:PORT] [SYMBOL...]: services, methods, messages, enums, fields... as
// proto-like text, from the descriptors the server sends by reflection (or local files).
import type { Command } from "../command.js";
import { DESCRIPTOR_HELP, DESCRIPTOR_OPTIONS } from "../local-descriptors.js";
import { CONNECTION_HELP, CONNECTION_OPTIONS } from "../options.js";
import { describe as describeText } from "../proto-text.js";
import { reportFailure } from "../report.js";
import { openSession, splitTarget, type SessionValues } from "../session.js";

export const describe: Command = {
  name: "describe",
  summary: "describe HOST:PORT [SYMBOL...]    print a service, method, message or enum as proto text",
  help: `usage: switchboard describe HOST:PORT [SYMBOL...] [options]
       switchboard describe [HOST:PORT] [SYMBOL...] --proto FILE [-I DIR]... | --protoset FILE

Prints each SYMBOL in proto syntax: a service (pkg.Service), a method (pkg.Service.Method), a
message or enum (pkg.Type, nested: pkg.Outer.Inner), a field or oneof (pkg.Type.name), an enum
value (pkg.VALUE) or an extension. Without SYMBOL: every service the server lists (or the local
files define). With --proto or --protoset no server is asked, so HOST:PORT may be left out.

options:
  --timeout DUR              deadline of the reflection stream (default 10s)
${DESCRIPTOR_HELP}
${CONNECTION_HELP}

exit status: 0 on success, 1 for usage errors, bad schema files or an unknown symbol, 64 + the
gRPC status code when a call fails.
`,
  options: { ...CONNECTION_OPTIONS, ...DESCRIPTOR_OPTIONS, timeout: { type: "string" } },
  async run(raw, positionals, io) {
    const values = raw as SessionValues;
    const { target, args: symbols } = splitTarget(positionals, values);
    const session = openSession(target, values, false);
    try {
      const names = symbols.length > 0 ? symbols : (await session.descriptors.listServices()).sort();
      const texts: string[] = [];
      for (const name of names) texts.push(describeText(await session.descriptors.lookup(name)));
      io.stdout.write(texts.join("\n"));
      return 0;
    } catch (err) {
      return reportFailure(io, "describe", err);
    } finally {
      session.close();
    }
  },
};
