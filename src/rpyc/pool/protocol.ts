// Messages between a ThreadPoolServer and its worker threads. Values cross as brine bytes, so
// Python's types (int vs float, bigint, bytes, tuples, frozensets) survive the trip unchanged.

export type ToPoolWorker = {
  t: "call";
  id: number;
  /** The member of the worker's service instance to call (e.g. "exposed_add"). */
  member: string;
  /** The name the peer called, for Python-style error messages (e.g. "add"). */
  label: string;
  /** brine of the positional arguments (a tuple). */
  args: Uint8Array;
  /** brine of the keyword arguments as ((name, value), ...), bound by parameter name in the worker. */
  kwargs: Uint8Array | null;
};

export type FromPoolWorker =
  | { t: "ready" }
  | { t: "load-error"; message: string }
  | { t: "result"; id: number; value: Uint8Array }
  /** brine of rpyc's exception record ((module, name), args, attrs, traceback). */
  | { t: "error"; id: number; error: Uint8Array };

/** What worker-boot.mjs passes to the thread (beside `entry`). */
export interface PoolWorkerData {
  entry: string;
  /** file: URL of the module that exports the service. */
  module: string;
  /** The export holding the Service class (or a ready instance). */
  exportName: string;
}
