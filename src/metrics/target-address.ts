// server.address / server.port of a channel target, for OpenTelemetry client attributes: the
// channel's own target grammar (parseTargetUri, splitHostPort), read without resolving.
import { parseTargetUri } from "../client/resolver.js";
import { splitHostPort } from "../client/target.js";

/** The host (or socket path) and port a channel target names; undefined when it names none. */
export function targetAddress(target: string): { address: string; port?: number } | undefined {
  const uri = parseTargetUri(target);
  if (uri?.scheme === "unix" || uri?.scheme === "unix-abstract") {
    // As the channel reads it: the path after "unix:" or "unix://".
    const path = target.slice(target.indexOf(":") + 1).replace(/^\/\//, "");
    return path ? { address: path } : undefined;
  }
  // dns:, ipv4:, ipv6: and registered schemes name host[:port] in their endpoint (a list: the first).
  const hostPort = uri === undefined ? target : uri.endpoint.split(",")[0]!;
  // Port 0 stands for "none given" here: no target names port 0.
  const hp = splitHostPort(hostPort, 0);
  if (!hp || !hp.host) return undefined;
  return hp.port === 0 ? { address: hp.host } : { address: hp.host, port: hp.port };
}
