// The admin server of `new Server({ admin })`: started when the server starts serving, closed
// when it has stopped. It starts in the background, so that start() keeps its forms and
// meaning; `server.admin` resolves once it listens. A failure to start (a taken port) is told
// to onError, or as a process warning, and the server keeps serving calls: the admin server is
// an aid, not part of the service.
import { report } from "../server/error-report.js";
import type { ServerErrorHook } from "../server/options.js";
import type { Server } from "../server/server.js";
import type { AdminServer } from "./admin-server.js";
import type { AdminOptions } from "./options.js";

/** @internal The admin server a Server owns through its `admin` option. */
export class OwnedAdmin {
  private started: Promise<AdminServer> | undefined;

  constructor(
    private readonly server: Server,
    private readonly options: AdminOptions,
    private readonly onError: ServerErrorHook | undefined,
  ) {}

  /** The admin server once it listens; undefined before start(). */
  get ready(): Promise<AdminServer> | undefined {
    return this.started;
  }

  /** Starts it once (loading the admin code only now: servers without it never pay for it). */
  start(): void {
    if (this.started) return;
    this.started = import("./admin-server.js").then((m) => m.startAdmin(this.server, this.options));
    this.started.catch((err: unknown) => {
      if (this.onError) report(this.onError, err, { source: "server" });
      else process.emitWarning(`the admin server did not start: ${err instanceof Error ? err.message : String(err)}`, { type: "SwitchboardWarning", code: "ERR_SB_ADMIN" });
    });
  }

  /** Closes it if it started. */
  async close(): Promise<void> {
    const started = this.started;
    if (!started) return;
    try {
      await (await started).close();
    } catch {
      // It never listened: the failure was reported when it happened.
    }
  }
}
