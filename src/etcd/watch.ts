// A prefix watch that survives lost connections and etcd restarts: re-created from the revision
// after the last one delivered, and re-listed when etcd has compacted that history away.
import type { EtcdClient } from "./client.js";
import { isConnectionFailure } from "./errors.js";
import { Event_EventType } from "../gen/etcd/mvccpb/kv_pb.js";
import { fromKv, type EtcdKeyValue } from "./keys.js";
import { Backoff } from "../backoff.js";
import { sleep } from "./util.js";

/** One change under the watched prefix. */
export interface EtcdEvent {
  type: "put" | "delete";
  /** For a delete: the key, with modRevision the revision of the deletion and an empty value. */
  kv: EtcdKeyValue;
  /** The value before this change, when etcd still had it. */
  prevKv?: EtcdKeyValue;
}

/**
 * What a watch delivers: changes in revision order, or (after etcd compacted the history the
 * watch needed) the complete current contents of the prefix, replacing everything known before.
 */
export type WatchBatch = { kind: "events"; events: EtcdEvent[]; revision: bigint } | { kind: "reset"; kvs: EtcdKeyValue[]; revision: bigint };

export type WatchHandler = (batch: WatchBatch) => void;

export interface WatchOptions {
  /** First revision to deliver (e.g. a Range's revision + 1). Default: changes after the watch starts. */
  fromRevision?: bigint;
  /** Told about each lost watch stream (the watcher retries on its own). */
  onError?: (err: unknown) => void;
  /** Called each time the watch is (re-)established with etcd. */
  onCreated?: () => void;
}

/** A running prefix watch; close() ends it. */
export class EtcdWatcher {
  private stopped = false;
  private next: bigint;
  private cancelCall: (() => void) | undefined;
  private readonly abort = new AbortController();
  /** Settles after close(); never rejects. */
  readonly done: Promise<void>;

  constructor(
    private readonly client: EtcdClient,
    private readonly key: Uint8Array,
    private readonly rangeEnd: Uint8Array,
    private readonly options: WatchOptions,
    private readonly onEvents: WatchHandler,
  ) {
    this.next = options.fromRevision ?? 0n;
    this.done = this.run();
  }

  /** The next revision this watch will deliver (0n before the first watch was created). */
  get nextRevision(): bigint {
    return this.next;
  }

  /** Ends the watch; no handler calls after it. Idempotent. */
  close(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    // A stream still opening is not cancelled here but by run() once it is open: a cancel that
    // races the stream's creation can leave the stream open on the connection.
    this.cancelCall?.();
    this.client.disown(this);
  }

  private async run(): Promise<void> {
    const backoff = new Backoff(100, 2000);
    while (!this.stopped) {
      let opened: ReturnType<EtcdClient["openWatch"]>;
      try {
        opened = this.client.openWatch();
      } catch {
        return; // the client was closed
      }
      const { call, stubs } = opened;
      // Cancelled only once its stream is open (below): see close().
      this.cancelCall = undefined;
      try {
        await call.sendMessage({
          requestUnion: {
            case: "createRequest",
            value: { key: this.key, rangeEnd: this.rangeEnd, startRevision: this.next, prevKv: true, progressNotify: true },
          },
        });
        this.cancelCall = () => void call.cancel().catch(() => {});
        // close() came while the stream was opening: end it now that it exists.
        if (this.stopped) return;
        for (;;) {
          const res = await call.recvMessage();
          if (this.stopped) return;
          if (res === null) throw new Error("etcd ended the watch stream");
          if (res.compactRevision > 0n) {
            // The revisions this watch needs are gone: start over from a fresh listing.
            const { kvs, revision } = await this.client.getPrefix(this.key);
            if (this.stopped) return;
            this.next = revision + 1n;
            this.deliver({ kind: "reset", kvs, revision });
            break;
          }
          if (res.canceled) throw new Error(`etcd canceled the watch: ${res.cancelReason || "no reason given"}`);
          const headerRev = res.header?.revision ?? 0n;
          if (res.created) {
            backoff.reset();
            if (this.next === 0n) this.next = headerRev + 1n;
            this.options.onCreated?.();
            continue;
          }
          if (res.events.length > 0) {
            const events = res.events.map(
              (e): EtcdEvent => ({
                type: e.type === Event_EventType.DELETE ? "delete" : "put",
                kv: fromKv(e.kv!),
                ...(e.prevKv ? { prevKv: fromKv(e.prevKv) } : {}),
              }),
            );
            const last = events[events.length - 1]!.kv.modRevision;
            this.next = last + 1n;
            this.deliver({ kind: "events", events, revision: last });
          } else if (headerRev >= this.next) {
            // A progress notification: nothing under the prefix changed up to headerRev.
            this.next = headerRev + 1n;
          }
        }
      } catch (err) {
        if (this.stopped) return;
        if (isConnectionFailure(err)) this.client.failed(stubs.index, err);
        this.client.logger?.debug?.(`etcd watch lost (${(err as Error)?.message}); resuming from revision ${this.next}`);
        try {
          this.options.onError?.(err);
        } catch {
          // An observer's failure is not the watch's.
        }
        await sleep(backoff.delay(), this.abort.signal);
      } finally {
        // Every way out of a stream ends it: a call left open would hold its connection (and the process).
        void call.cancel().catch(() => {});
      }
    }
  }

  private deliver(batch: WatchBatch): void {
    try {
      this.onEvents(batch);
    } catch (err) {
      this.client.logger?.error?.(`etcd watch handler threw: ${(err as Error)?.message}`);
    }
  }
}
