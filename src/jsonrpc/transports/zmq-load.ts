// `zeromq` is an optional peer dependency: only the ZeroMQ transports need it, and they load
// it when first used, so the rest of the library works without the native addon installed.
import { ErrorCode, SwitchboardError } from "../../errors.js";

export type Zmq = typeof import("zeromq");

let loaded: Promise<Zmq> | undefined;

/** Loads `zeromq` (the specifier is a parameter only so a missing module can be tested). */
export async function importZeromq(specifier = "zeromq"): Promise<Zmq> {
  if (specifier !== "zeromq") return load(specifier);
  loaded ??= load(specifier);
  return loaded.catch((e: unknown) => {
    loaded = undefined; // let a later call retry (e.g. after installing)
    throw e;
  });
}

async function load(specifier: string): Promise<Zmq> {
  try {
    return (await import(specifier)) as Zmq;
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new SwitchboardError(ErrorCode.TRANSPORT, `install zeromq to use the ZeroMQ transport (npm install zeromq): ${why}`, { cause: e });
  }
}
