// The 18 interop cases from the @grpc/grpc-js client against our server.
import { CLIENTS, interopSuite, startOurServer } from "./peers.js";

interopSuite({ client: CLIENTS.grpcjs, clientName: "grpc-js client", serverName: "Switchboard server", start: startOurServer });
