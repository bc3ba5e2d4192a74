// Where ThreadPoolServer threads and ForkingServer children find the service: they run in
// another thread or process, so they import it by module URL and export name.
import { ErrorCode, SwitchboardError } from "../errors.js";
import { moduleUrl } from "../execution/options.js";
import type { ServiceSpec } from "./server.js";

export interface ServiceModuleOptions {
  /** The module that exports the service: a file: URL, or a path. */
  serviceModule: URL | string;
  /** The export holding the Service class. Default: the class name of `service`, else "default". */
  serviceExport?: string;
}

/** The module URL and export name, or BAD_OPTION naming `server` and `where` when serviceModule is missing. */
export function serviceModuleOf(service: ServiceSpec, options: Partial<ServiceModuleOptions>, server: string, where: string): { moduleUrl: string; exportName: string } {
  if (options.serviceModule === undefined) throw new SwitchboardError(ErrorCode.BAD_OPTION, `${server} needs serviceModule: the module ${where} imports the service from`);
  const cls = typeof service === "function" ? service : service.constructor;
  return { moduleUrl: moduleUrl(options.serviceModule), exportName: options.serviceExport ?? (cls && cls !== Object && cls.name ? cls.name : "default") };
}
