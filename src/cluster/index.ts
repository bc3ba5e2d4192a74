export { Cluster, isWorker, serveWorkers } from "./primary.js";
export type {
  ClusterEvents,
  PortSharing,
  RestartPolicy,
  RestartReason,
  ServeWorkersOptions,
  WorkerInfo,
  WorkerServing,
  WorkerStart,
  WorkerState,
  WorkerStatus,
} from "./types.js";
