// server.address / server.port of a channel target, for OpenTelemetry client attributes.

/** The host (or socket path) and port a channel target names; undefined when it names none. */
export function targetAddress(target: string): { address: string; port?: number } | undefined {
  let rest = target;
  let scheme = "";
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):(.*)$/s.exec(target);
  // "localhost:50051" is a host and a port, not a scheme.
  if (m && !/^\d*$/.test(m[2]!)) {
    scheme = m[1]!.toLowerCase();
    rest = m[2]!;
  }
  if (rest.startsWith("//")) {
    const slash = rest.indexOf("/", 2);
    rest = slash === -1 ? rest.slice(2) : rest.slice(slash + (scheme === "unix" ? 0 : 1));
  }
  if (scheme === "unix" || scheme === "unix-abstract") return rest ? { address: rest } : undefined;
  if (scheme === "ipv4" || scheme === "ipv6") rest = rest.split(",")[0]!;
  let host = rest;
  let portText = "";
  if (rest.startsWith("[")) {
    const end = rest.indexOf("]");
    if (end === -1) return undefined;
    host = rest.slice(1, end);
    if (rest[end + 1] === ":") portText = rest.slice(end + 2);
  } else {
    const colon = rest.lastIndexOf(":");
    // One colon separates a port; more (a bare IPv6 literal) means no port.
    if (colon !== -1 && rest.indexOf(":") === colon) {
      host = rest.slice(0, colon);
      portText = rest.slice(colon + 1);
    }
  }
  if (!host) return undefined;
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : undefined;
  return port !== undefined && port <= 65535 ? { address: host, port } : { address: host };
}
