// Keeps a server registered while it runs, as rpyc's Server does with auto_register: a
// registration at once, another every reregisterInterval seconds after one succeeded, and a
// retry a second after one failed; UNREGISTER when the server stops.
import type { Logger } from "../logger.js";
import { secondsToMs } from "./common.js";
import type { RegistryClient } from "./client.js";

export interface AutoRegistrarOptions {
  /** The address the server listens on: registrations are sent from it. Default: any. */
  interface?: string;
  /** Told about failed registrations. */
  logger?: Logger;
  /** Seconds between registrations after a success. Default: the registrar's reregisterInterval (60). */
  reregisterInterval?: number;
  /** Seconds before the next try after a failure. Default 1. */
  retryInterval?: number;
}

/** Registers `aliases` for the server on `port` with `registrar` until stop(). */
export class AutoRegistrar {
  private readonly intervalMs: number;
  private readonly retryMs: number;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<boolean> | undefined;
  private abort: AbortController | undefined;
  private started = false;
  private stopping: Promise<void> | undefined;

  constructor(
    readonly registrar: RegistryClient,
    readonly aliases: readonly string[],
    readonly port: number,
    private readonly options: AutoRegistrarOptions = {},
  ) {
    this.intervalMs = secondsToMs(options.reregisterInterval ?? registrar.reregisterInterval, "reregisterInterval");
    this.retryMs = secondsToMs(options.retryInterval ?? 1, "retryInterval");
  }

  /** True until stop() is called. */
  get active(): boolean {
    return this.started && this.stopping === undefined;
  }

  /**
   * Registers now and keeps registering; resolves with the first attempt's outcome (it never
   * rejects, and nobody needs to wait for it). A second call returns the current attempt.
   */
  start(): Promise<boolean> {
    if (this.stopping !== undefined) return Promise.resolve(false);
    if (this.started) return this.inFlight ?? Promise.resolve(true);
    this.started = true;
    return this.attempt();
  }

  /** Stops re-registering and sends UNREGISTER; resolves within about the registrar's timeout. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private attempt(): Promise<boolean> {
    this.timer = undefined;
    const abort = new AbortController();
    this.abort = abort;
    const run = (async (): Promise<boolean> => {
      let ok = false;
      try {
        ok = await this.registrar.register(this.aliases, this.port, { interface: this.options.interface, signal: abort.signal });
      } catch (err) {
        this.options.logger?.error?.(`error registering ${this.aliases.join(", ")}: ${(err as Error).message}`);
      }
      if (this.stopping === undefined) {
        if (!ok) this.options.logger?.info?.("registering services did not work - retry");
        this.timer = setTimeout(() => void this.attempt(), ok ? this.intervalMs : this.retryMs);
        // A server that is otherwise done must not be kept alive by its registration timer.
        this.timer.unref();
      }
      return ok;
    })();
    this.inFlight = run;
    void run.finally(() => {
      if (this.inFlight === run) this.inFlight = undefined;
    });
    return run;
  }

  private async shutdown(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.started) return;
    // A registration still waiting for its answer must not land after the UNREGISTER: its
    // request is already sent, so stop waiting and let it settle before unregistering.
    this.abort?.abort();
    await this.inFlight;
    try {
      await this.registrar.unregister(this.port);
    } catch (err) {
      this.options.logger?.error?.(`error unregistering port ${this.port}: ${(err as Error).message}`);
    }
  }
}
