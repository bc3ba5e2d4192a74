export { createH2Server, createSecureH2Server, type H2ServerOptions } from "./server.js";
export { H2ServerSession } from "./session.js";
export { H2ServerStream, type RespondOptions } from "./stream.js";
export { DEFAULT_SESSION_OPTIONS, H2ProtocolError, type H2SessionOptions, type PeerSettings } from "./options.js";
export { H2Error, FrameType, Flag, Setting } from "./constants.js";
