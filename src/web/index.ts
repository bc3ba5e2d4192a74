// gRPC-Web, Connect, HTTP/1.1 and CORS on the gRPC port (docs/web.md).
export type { CorsOptions, WebOptions } from "./options.js";
