// The 18 interop cases from Debian's python3-grpcio (C-core) client against our server.
import { CLIENTS, interopSuite, pythonPeerMissing, requirePeer, startOurServer } from "./peers.js";

const skip = requirePeer(pythonPeerMissing());
if (skip) process.stderr.write(`SKIPPING C-core interop client tests: ${skip}\n`);

interopSuite({ client: CLIENTS.python, clientName: "C-core client", serverName: "Switchboard server", start: startOurServer, skip });
