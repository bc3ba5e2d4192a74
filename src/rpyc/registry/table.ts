// The registry's state and its four commands, with no sockets: the UDP and TCP servers
// hand it (sender IP, request bytes) and send back whatever reply it returns.
//
// Behaviour follows rpyc 5.3's RegistryServer: entries are keyed by the sender's IP and the
// port named in the message; names are upper-cased on store and on query; a QUERY drops the
// entries of that name older than the pruning timeout and returns the rest oldest first.
// A request that is not brine, lacks the magic, names an unknown command or has arguments
// of the wrong shape gets no reply at all (rpyc logs it and moves on).
import { load } from "../brine.js";
import type { Logger } from "../logger.js";
import { PyFrozenSet, type PyValue } from "../values.js";
import { MAGIC } from "./common.js";

/** One server registered under a name. */
export interface RegistryEntry {
  /** The IP address the REGISTER came from. */
  readonly host: string;
  /** The port the REGISTER named (the rpyc server's listening port). */
  readonly port: number;
  /** When the entry was last registered or refreshed (`Date.now()`). */
  readonly registeredAt: number;
}

interface Stamped {
  entry: RegistryEntry;
  // Monotonic time of the last REGISTER: pruning must not jump with the wall clock.
  refreshed: number;
}

/** The outcome of one request: a value to send back, or nothing at all. */
export type RegistryReply = { readonly reply: PyValue } | null;

const now = (): number => performance.now();

/** Name -> (host, port) -> entry, with rpyc's registry commands. */
export class RegistryTable {
  // Insertion order is rpyc's dict order: LIST returns names in it, and QUERY sorts entries
  // by time stably, so equal stamps keep it too.
  private readonly table = new Map<string, Map<string, Stamped>>();

  constructor(
    private readonly pruningTimeoutMs: number,
    private readonly allowListing: boolean,
    private readonly logger: Logger | undefined,
  ) {}

  /** Decodes and runs one request from `host`; null when rpyc would not answer it. */
  handle(host: string, data: Uint8Array): RegistryReply {
    let request: PyValue;
    try {
      request = load(data);
    } catch {
      this.logger?.debug?.(`registry: ignored a request from ${host} that is not brine`);
      return null;
    }
    return this.handleValue(host, request);
  }

  /** Runs one decoded request from `host`; null when rpyc would not answer it. */
  handleValue(host: string, request: PyValue): RegistryReply {
    if (!Array.isArray(request) || request.length !== 3) {
      this.logger?.warn?.(`registry: ignored a request from ${host} that is not ("RPYC", command, args)`);
      return null;
    }
    const [magic, command, args] = request as readonly PyValue[];
    if (magic !== MAGIC) {
      this.logger?.warn?.(`registry: invalid magic from ${host}`);
      return null;
    }
    if (typeof command !== "string" || !Array.isArray(args)) {
      this.logger?.warn?.(`registry: ignored a malformed request from ${host}`);
      return null;
    }
    const a = args as readonly PyValue[];
    // rpyc looks the handler up as `cmd_` + command.lower(), so the command is case-insensitive.
    switch (command.toLowerCase()) {
      case "register":
        return a.length === 2 ? this.register(host, a[0], a[1]) : this.malformed(host, command);
      case "unregister":
        return a.length === 1 ? this.unregister(host, a[0]) : this.malformed(host, command);
      case "query":
        return a.length === 1 ? this.query(a[0]) : this.malformed(host, command);
      case "list":
        return a.length === 1 ? this.list(a[0]) : this.malformed(host, command);
      default:
        this.logger?.warn?.(`registry: unknown command ${JSON.stringify(command)} from ${host}`);
        return null;
    }
  }

  /** A copy of the table: name -> entries in registration order (stale entries included until a QUERY prunes them). */
  services(): Map<string, RegistryEntry[]> {
    const out = new Map<string, RegistryEntry[]>();
    for (const [name, entries] of this.table) out.set(name, [...entries.values()].map((s) => s.entry));
    return out;
  }

  private malformed(host: string, command: string): null {
    this.logger?.warn?.(`registry: ignored ${command} from ${host} with arguments of the wrong shape`);
    return null;
  }

  private register(host: string, aliases: PyValue, port: PyValue): RegistryReply {
    // rpyc iterates the aliases (a tuple; a frozenset iterates too) and upper-cases each.
    const names = Array.isArray(aliases) ? (aliases as readonly PyValue[]) : aliases instanceof PyFrozenSet ? aliases.items : null;
    if (names === null || !names.every((n) => typeof n === "string") || !isPort(port)) return this.malformed(host, "REGISTER");
    this.logger?.debug?.(`registry: registering ${host}:${port} as ${names.join(", ")}`);
    const key = entryKey(host, port);
    for (const name of names as readonly string[]) {
      const upper = name.toUpperCase();
      let entries = this.table.get(upper);
      if (entries === undefined) this.table.set(upper, (entries = new Map()));
      // Re-registering refreshes the stamp but keeps the entry's place, as a dict update does.
      entries.set(key, { entry: { host, port, registeredAt: Date.now() }, refreshed: now() });
    }
    return { reply: "OK" };
  }

  private unregister(host: string, port: PyValue): RegistryReply {
    if (!isPort(port)) return this.malformed(host, "UNREGISTER");
    this.logger?.debug?.(`registry: unregistering ${host}:${port}`);
    const key = entryKey(host, port);
    for (const name of [...this.table.keys()]) this.remove(name, key);
    return { reply: "OK" };
  }

  private query(name: PyValue): RegistryReply {
    if (typeof name !== "string") return null;
    const upper = name.toUpperCase();
    const entries = this.table.get(upper);
    if (entries === undefined) return { reply: [] };
    const oldest = now() - this.pruningTimeoutMs;
    const servers: PyValue[] = [];
    for (const [key, stamped] of [...entries].sort((x, y) => x[1].refreshed - y[1].refreshed)) {
      if (stamped.refreshed < oldest) {
        this.logger?.debug?.(`registry: discarding stale ${stamped.entry.host}:${stamped.entry.port}`);
        this.remove(upper, key);
      } else {
        servers.push([stamped.entry.host, stamped.entry.port]);
      }
    }
    return { reply: servers };
  }

  private list(filter: PyValue): RegistryReply {
    // rpyc answers None before looking at the argument when listing is off.
    if (!this.allowListing) return { reply: null };
    // The client sends ((filter_host,),): the one argument is a tuple whose first item is
    // the host to filter on, None (or "") for every name.
    if (!Array.isArray(filter) || filter.length === 0) return null;
    const host = (filter as readonly PyValue[])[0];
    if (host === null || host === undefined || host === "") return { reply: [...this.table.keys()] };
    if (typeof host !== "string") return null;
    const names: string[] = [];
    for (const [name, entries] of this.table) {
      if ([...entries.values()].some((s) => s.entry.host === host)) names.push(name);
    }
    return { reply: names };
  }

  private remove(name: string, key: string): void {
    const entries = this.table.get(name);
    if (entries === undefined) return;
    entries.delete(key);
    // A name with no servers left disappears (and goes to the end of LIST if it returns).
    if (entries.size === 0) this.table.delete(name);
  }
}

function isPort(value: PyValue): value is number {
  return typeof value === "number" && Number.isSafeInteger(value);
}

function entryKey(host: string, port: number): string {
  return `${host}\u0000${port}`;
}
