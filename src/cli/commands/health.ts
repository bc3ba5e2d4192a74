// switchboard health HOST:PORT [SERVICE]: grpc.health.v1.Health/Check with grpc_health_probe's
// exit codes (and its wording after our usual error prefix), so scripts and container probes
// can swap one for the other.
import type { ClientSessionLike } from "../../grpc/transport.js";
import { createClient } from "../../client/typed.js";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { Code, codeName, RpcError } from "../../status.js";
import type { Command } from "../command.js";
import { CONNECTION_HELP, CONNECTION_OPTIONS, openChannel, parseDuration, parseHeaders, usageError, type ConnectionValues } from "../options.js";
import { errorLine } from "../report.js";

/** grpc_health_probe's exit codes. */
export const HealthExit = { SERVING: 0, INVALID_ARGUMENTS: 1, CONNECTION_FAILURE: 2, RPC_FAILURE: 3, UNHEALTHY: 4 } as const;

interface Values extends ConnectionValues {
  timeout?: string;
}

export const health: Command = {
  name: "health",
  summary: "health HOST:PORT [SERVICE]        health check, exit codes as grpc_health_probe",
  help: `usage: switchboard health HOST:PORT [SERVICE] [options]

Asks grpc.health.v1.Health/Check about SERVICE (default "": the whole server) and prints
"status: SERVING" on stdout when it is serving.

options:
  --timeout DUR              deadline of the Check call (default 1s)
${CONNECTION_HELP}

exit status (as grpc_health_probe):
  0  SERVING
  1  invalid arguments
  2  connection failure (refused, timed out, TLS handshake failed)
  3  RPC failure (no health service, unknown SERVICE = NOT_FOUND, deadline exceeded, ...)
  4  unhealthy: NOT_SERVING, UNKNOWN or SERVICE_UNKNOWN
`,
  options: { ...CONNECTION_OPTIONS, timeout: { type: "string" } },
  async run(raw, positionals, io) {
    const values = raw as Values;
    const [target, service = "", ...rest] = positionals;
    if (target === undefined) throw usageError("missing HOST:PORT");
    if (rest.length > 0) throw usageError(`unexpected argument ${JSON.stringify(rest[0])} (health takes HOST:PORT and one SERVICE)`);
    const rpcTimeout = values.timeout !== undefined ? parseDuration(values.timeout, "--timeout") : 1000;
    const connectTimeout = values["connect-timeout"] ?? "1s";
    const metadata = parseHeaders(values.header);
    const channel = openChannel(target, { ...values, "connect-timeout": connectTimeout });
    try {
      try {
        // A connection of its own first, so a failure to connect (2) is told from a failed call (3).
        await channel.connect();
        await handshake(await channel.getSession(), parseDuration(connectTimeout, "--connect-timeout"));
      } catch (err) {
        const message = err instanceof RpcError ? err.rawMessage : String(err);
        io.stderr.write(errorLine("health", /timed out/.test(message) ? `failed to connect service ${JSON.stringify(target)} within ${connectTimeout}` : `failed to connect service at ${JSON.stringify(target)}: ${message}`));
        return HealthExit.CONNECTION_FAILURE;
      }
      let status: ServingStatus;
      try {
        status = (await createClient(Health, channel).check({ service }, { timeout: rpcTimeout, metadata })).status;
      } catch (err) {
        io.stderr.write(errorLine("health", rpcFailure(err, rpcTimeout)));
        return HealthExit.RPC_FAILURE;
      }
      if (status !== ServingStatus.SERVING) {
        io.stderr.write(errorLine("health", `service unhealthy (responded with ${JSON.stringify(ServingStatus[status] ?? String(status))})`));
        return HealthExit.UNHEALTHY;
      }
      io.stdout.write("status: SERVING\n");
      return HealthExit.SERVING;
    } finally {
      channel.close();
    }
  },
};

/**
 * Resolves once the server acknowledged our SETTINGS: only then does it speak HTTP/2 (a TCP
 * connect alone also succeeds against a TLS port, or anything else listening).
 */
function handshake(session: ClientSessionLike, ms: number): Promise<void> {
  if (!session.pendingSettingsAck) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new RpcError(Code.UNAVAILABLE, `connect timed out after ${ms} ms (no HTTP/2 SETTINGS from the server)`)), ms);
    const onClose = () => done(new RpcError(Code.UNAVAILABLE, "the server closed the connection during the HTTP/2 handshake"));
    const done = (err?: Error) => {
      clearTimeout(timer);
      session.off("localSettings", onSettled);
      session.off("close", onClose);
      if (err) reject(err);
      else resolve();
    };
    const onSettled = () => done();
    session.once("localSettings", onSettled);
    session.once("close", onClose);
  });
}

function rpcFailure(err: unknown, timeoutMs: number): string {
  if (!(err instanceof RpcError)) return `health rpc failed: ${String(err)}`;
  if (err.code === Code.UNIMPLEMENTED) return `this server does not implement the grpc health protocol (grpc.health.v1.Health): ${err.rawMessage}`;
  if (err.code === Code.DEADLINE_EXCEEDED) return `health rpc did not complete within ${timeoutMs}ms`;
  return `health rpc failed: ${codeName(err.code)}: ${err.rawMessage}`;
}
