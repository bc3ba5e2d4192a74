// The dashboard's event stream (Server-Sent Events): every client gets a snapshot as soon as
// it connects, then one per interval, all from one shared timer that runs only while somebody
// listens. Clients are capped, and one that stops reading (its buffer past a bound) is dropped
// rather than buffered without end.
import type { ServerResponse } from "node:http";

/** A client's unread output beyond which it is dropped. */
const MAX_BUFFERED = 1024 * 1024;

/** Pushes JSON snapshots to the connected event-stream clients. */
export class EventHub {
  private readonly clients = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | undefined;
  private sending = false;

  constructor(
    private readonly snapshot: () => Promise<unknown>,
    private readonly intervalMs: number,
    private readonly maxClients: number,
  ) {}

  get size(): number {
    return this.clients.size;
  }

  /** Whether another client may join. */
  get full(): boolean {
    return this.clients.size >= this.maxClients;
  }

  /** Takes over `res` as an event stream: headers, a first snapshot, then one per interval. */
  add(res: ServerResponse): void {
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-store",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    // EventSource reconnects after this many ms when the stream drops.
    res.write("retry: 2000\n\n");
    this.clients.add(res);
    res.on("close", () => this.remove(res));
    void this.snapshot().then(
      (s) => this.send(res, s),
      (err: unknown) => {
        // Ended with the reason (an SSE comment): the browser's EventSource reconnects after `retry`.
        this.remove(res);
        res.end(`: snapshot failed: ${oneLine(err)}\n\n`);
      },
    );
    if (!this.timer) {
      this.timer = setInterval(() => void this.tick(), this.intervalMs);
      this.timer.unref();
    }
  }

  /** Ends every stream and the timer. */
  close(): void {
    for (const res of [...this.clients]) {
      this.remove(res);
      res.end();
    }
  }

  private remove(res: ServerResponse): void {
    this.clients.delete(res);
    if (this.clients.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private async tick(): Promise<void> {
    // A snapshot slower than the interval (slow health checks) skips a beat instead of piling up.
    if (this.sending) return;
    this.sending = true;
    try {
      const s = await this.snapshot();
      for (const res of [...this.clients]) this.send(res, s);
    } catch (err) {
      // Told to the streams as an SSE comment; the next tick tries again.
      for (const res of [...this.clients]) if (!res.writableEnded) res.write(`: snapshot failed: ${oneLine(err)}\n\n`);
    } finally {
      this.sending = false;
    }
  }

  private send(res: ServerResponse, snapshot: unknown): void {
    if (!this.clients.has(res) || res.writableEnded) return;
    if (res.writableLength > MAX_BUFFERED) {
      this.remove(res);
      res.destroy();
      return;
    }
    res.write(`event: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n`);
  }
}

/** An error's message on one line (an SSE comment ends at a line break). */
function oneLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/[\r\n]+/g, " ");
}
