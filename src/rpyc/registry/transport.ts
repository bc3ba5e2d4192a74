// One registry exchange over UDP or TCP: send a request, maybe wait for one reply. Each
// call owns its socket and closes it on every path, and never rejects: failures come back
// as a reason string so that register() can answer false and discover() an empty list.
import dgram from "node:dgram";
import net from "node:net";

export type Outcome = { readonly ok: true; readonly data: Buffer } | { readonly ok: false; readonly reason: string };

export interface UdpExchange {
  type: "udp4" | "udp6";
  ip: string;
  port: number;
  data: Buffer;
  broadcast: boolean;
  /** Local address to bind ("" or undefined: any). */
  bindAddress?: string | undefined;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /**
   * Which datagram is the reply: "take" ends the exchange with it, "skip" waits on. Without
   * it, the exchange ends once the request is sent.
   */
  accept?: (msg: Buffer, rinfo: dgram.RemoteInfo) => "take" | "skip";
}

/**
 * The one way an exchange ends: the first outcome (reply, error, timeout or abort) wins, clears
 * the timer and the abort listener, and closes the socket.
 */
function settleOnce(x: { timeoutMs: number; signal?: AbortSignal | undefined }, close: () => void, resolve: (outcome: Outcome) => void): (outcome: Outcome) => void {
  let settled = false;
  const finish = (outcome: Outcome): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    x.signal?.removeEventListener("abort", onAbort);
    close();
    resolve(outcome);
  };
  const onAbort = (): void => finish({ ok: false, reason: "aborted" });
  const timer = setTimeout(() => finish({ ok: false, reason: "timed out" }), x.timeoutMs);
  x.signal?.addEventListener("abort", onAbort, { once: true });
  return finish;
}

/** Sends one datagram and, when `accept` is given, waits up to the timeout for the reply it takes. */
export function udpExchange(x: UdpExchange): Promise<Outcome> {
  return new Promise<Outcome>((resolve) => {
    if (x.signal?.aborted) {
      resolve({ ok: false, reason: "aborted" });
      return;
    }
    const socket = dgram.createSocket(x.type);
    const finish = settleOnce(
      x,
      () => {
        try {
          socket.close();
        } catch {
          // Closed already (a failed bind closes it).
        }
      },
      resolve,
    );
    socket.on("error", (err) => finish({ ok: false, reason: err.message }));
    socket.on("message", (msg, rinfo) => {
      if (x.accept?.(msg, rinfo) === "take") finish({ ok: true, data: msg });
    });
    // Broadcasting needs a bound socket, and rpyc's register() binds to the server's interface.
    socket.bind({ port: 0, address: x.bindAddress || undefined }, () => {
      try {
        if (x.broadcast) socket.setBroadcast(true);
        socket.send(x.data, x.port, x.ip, (err) => {
          if (err) finish({ ok: false, reason: err.message });
          else if (x.accept === undefined) finish({ ok: true, data: Buffer.alloc(0) });
        });
      } catch (err) {
        finish({ ok: false, reason: (err as Error).message });
      }
    });
  });
}

export interface TcpExchange {
  ip: string;
  port: number;
  data: Buffer;
  /** Local address to bind ("" or undefined: any). */
  localAddress?: string | undefined;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** The most reply bytes kept; the rest is dropped. */
  maxReply: number;
  /** Whether the reply counts: false only sends (then waits for the registry to close, within the timeout). */
  wantReply: boolean;
}

/**
 * Connects, sends the request and reads the reply until the registry closes the connection
 * (or the reply reaches maxReply bytes), all within the timeout.
 */
export function tcpExchange(x: TcpExchange): Promise<Outcome> {
  return new Promise<Outcome>((resolve) => {
    if (x.signal?.aborted) {
      resolve({ ok: false, reason: "aborted" });
      return;
    }
    let socket: net.Socket;
    try {
      socket = net.connect({ host: x.ip, port: x.port, localAddress: x.localAddress || undefined });
    } catch (err) {
      // A localAddress that is not an IP address throws here.
      resolve({ ok: false, reason: (err as Error).message });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = settleOnce(x, () => socket.destroy(), resolve);
    socket.on("error", (err) => finish({ ok: false, reason: err.message }));
    socket.on("connect", () => {
      // Unregister only sends; ending our side lets the registry see the whole request, and
      // its close (after its reply) tells us it was handled.
      if (x.wantReply) socket.write(x.data);
      else socket.end(x.data);
    });
    socket.on("data", (chunk: Buffer) => {
      if (!x.wantReply) return;
      chunks.push(chunk);
      size += chunk.length;
      if (size >= x.maxReply) finish({ ok: true, data: Buffer.concat(chunks).subarray(0, x.maxReply) });
    });
    socket.on("end", () => finish({ ok: true, data: Buffer.concat(chunks) }));
    socket.on("close", () => finish({ ok: true, data: Buffer.concat(chunks) }));
  });
}
