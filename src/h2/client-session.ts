// The client side of a connection: the preface, requests as new streams (odd identifiers in
// order, queued while the server's SETTINGS_MAX_CONCURRENT_STREAMS is reached), response and
// trailer rules (RFC 9113 8.3.2), and the server's GOAWAY (streams it did not process end
// with REFUSED_STREAM so callers may retry). The API is the subset of node:http2's
// ClientHttp2Session the gRPC client uses.
import type { Duplex } from "node:stream";
import { TLSSocket } from "node:tls";
import { CLIENT_PREFACE, Flag, H2Error, MAX_STREAM_ID, Setting } from "./constants.js";
import { H2Connection, type HeaderBlock } from "./connection.js";
import { outgoingRequestFields, responseFields, trailerFields } from "./fields.js";
import type { DecodedBlock } from "./hpack/index.js";
import { H2ProtocolError, type H2SessionOptions } from "./options.js";
import { H2ClientStream } from "./client-stream.js";
import { h2Error, type H2Stream } from "./stream.js";

export interface RequestOptions {
  endStream?: boolean;
}

export class H2ClientSession extends H2Connection {
  private nextStreamId = 1;
  /** Requests waiting for a stream slot (the server's concurrency limit), oldest first. */
  private readonly pending: { stream: H2ClientStream; fields: string[]; endStream: boolean }[] = [];
  private connected = false;
  private goawayReceived = false;

  constructor(
    socket: Duplex,
    o: H2SessionOptions,
    private readonly defaults: { scheme: string; authority: string },
  ) {
    super(socket, o);
    // 3.4: the client's preface, then its SETTINGS.
    this.push(CLIENT_PREFACE);
    this.sendSettings();
    const s = socket as Duplex & { connecting?: boolean; encrypted?: boolean; alpnProtocol?: string | false };
    const ready = () => {
      if (this.destroyed) return;
      if (s.encrypted && s.alpnProtocol !== "h2") {
        this.destroy(h2Error("ERR_HTTP2_ERROR", `the server did not choose h2 by ALPN (it chose ${s.alpnProtocol || "nothing"})`));
        return;
      }
      this.connected = true;
      this.emit("connect", this, socket);
    };
    if (socket instanceof TLSSocket) {
      if (s.alpnProtocol === undefined || s.connecting) socket.once("secureConnect", ready);
      else process.nextTick(ready);
    } else if (s.connecting) socket.once("connect", ready);
    else process.nextTick(ready);
  }

  get connecting(): boolean {
    return !this.connected;
  }

  protected override get isClient(): boolean {
    return true;
  }

  /** Requests still queued for a slot end with the connection (REFUSED_STREAM: never sent, safe to retry). */
  protected override onEnded(err?: Error): void {
    const refused = err ?? h2Error("ERR_HTTP2_SESSION_ERROR", "the connection ended before this request could be sent");
    for (const p of this.pending.splice(0)) p.stream.onClosed(H2Error.REFUSED_STREAM, true, refused);
  }

  override close(cb?: () => void): void {
    this.onEnded();
    super.close(cb);
  }

  protected extraSettings(): [number, number][] {
    return [[Setting.ENABLE_PUSH, 0]];
  }

  protected isIdle(id: number): boolean {
    return (id & 1) === 0 || id >= this.nextStreamId;
  }

  /** Starts a request; it opens at once, or when a stream slot frees up. */
  request(headers: Record<string, unknown>, options: RequestOptions = {}): H2ClientStream {
    if (this.destroyed) throw h2Error("ERR_HTTP2_INVALID_SESSION", "the session has been destroyed");
    if (this.closed || this.goawayReceived) throw h2Error("ERR_HTTP2_GOAWAY_SESSION", "new streams cannot be created after a GOAWAY");
    const fields = outgoingRequestFields({
      ":method": "GET",
      ":scheme": this.defaults.scheme,
      ":authority": this.defaults.authority,
      ":path": "/",
      ...headers,
    });
    const stream = new H2ClientStream(0, this, this.o.initialWindowSize, this.remoteSettings.initialWindowSize);
    const endStream = options.endStream === true;
    if (this.streams.size < this.remoteSettings.maxConcurrentStreams && this.pending.length === 0) this.open(stream, fields, endStream);
    else this.pending.push({ stream, fields, endStream });
    return stream;
  }

  /** Keeps the process alive only while calls run (the Channel refs and unrefs). */
  ref(): void {
    (this.socket as Duplex & { ref?: () => void }).ref?.();
  }

  unref(): void {
    (this.socket as Duplex & { unref?: () => void }).unref?.();
  }

  private open(stream: H2ClientStream, fields: string[], endStream: boolean): void {
    if (this.nextStreamId > MAX_STREAM_ID) {
      stream.onClosed(H2Error.REFUSED_STREAM, false, h2Error("ERR_HTTP2_OUT_OF_STREAMS", "no stream identifiers are left on this connection"));
      return;
    }
    stream.id = this.nextStreamId;
    this.nextStreamId += 2;
    stream.sendWindow = this.remoteSettings.initialWindowSize;
    this.addStream(stream);
    this.lastProcessedId = stream.id;
    this.sendHeaders(stream, fields, endStream);
    // Data written (or end() called) while the request waited for a slot goes out now.
    if (!endStream && (stream.queuedBytes > 0 || stream.endRequested)) this.scheduleData(stream);
  }

  override scheduleData(stream: H2Stream): void {
    if (stream.id === 0) return; // still queued: open() schedules it
    super.scheduleData(stream);
  }

  override resetStream(stream: H2Stream, code: number): void {
    if (stream.id === 0) {
      // Never opened: nothing to tell the server.
      const i = this.pending.findIndex((p) => p.stream === stream);
      if (i >= 0) this.pending.splice(i, 1);
      stream.onClosed(code, false);
      return;
    }
    super.resetStream(stream, code);
  }

  protected override onStreamClosed(): void {
    this.openPending();
  }

  protected override onPeerStreamLimit(): void {
    process.nextTick(() => this.openPending());
  }

  private openPending(): void {
    while (this.pending.length > 0 && this.streams.size < this.remoteSettings.maxConcurrentStreams && !this.closed && !this.destroyed) {
      const next = this.pending.shift()!;
      if (!next.stream.closed) this.open(next.stream, next.fields, next.endStream);
    }
  }

  protected onHeaderBlock(block: HeaderBlock, decoded: DecodedBlock): void {
    const stream = this.streams.get(block.streamId) as H2ClientStream | undefined;
    if (stream === undefined) {
      if (this.isIdle(block.streamId)) throw new H2ProtocolError(H2Error.PROTOCOL_ERROR, `HEADERS on idle stream ${block.streamId}`);
      if (this.recentResets.has(block.streamId)) return;
      throw new H2ProtocolError(H2Error.STREAM_CLOSED, `HEADERS on closed stream ${block.streamId}`);
    }
    if (stream.remoteEnded) return this.resetStream(stream, H2Error.STREAM_CLOSED);
    if (decoded.tooLarge) return this.resetStream(stream, H2Error.ENHANCE_YOUR_CALM);
    const flags = block.endStream ? Flag.END_STREAM | Flag.END_HEADERS : Flag.END_HEADERS;
    if (!stream.gotResponse) {
      const checked = responseFields(decoded.fields);
      if (typeof checked === "string") return this.resetStream(stream, H2Error.PROTOCOL_ERROR);
      if (checked.status < 200) {
        // 8.1: informational responses precede the final one and never end the stream.
        if (block.endStream) return this.resetStream(stream, H2Error.PROTOCOL_ERROR);
        stream.emit("headers", checked.headers, flags, decoded.fields);
        return;
      }
      stream.gotResponse = true;
      const length = checked.headers["content-length"];
      if (typeof length === "string" && /^[0-9]{1,15}$/.test(length)) stream.contentLength = Number(length);
      stream.emit("response", checked.headers, flags, decoded.fields);
    } else {
      if (!block.endStream) return this.resetStream(stream, H2Error.PROTOCOL_ERROR);
      const checked = trailerFields(decoded.fields);
      if (typeof checked === "string") return this.resetStream(stream, H2Error.PROTOCOL_ERROR);
      stream.emit("trailers", checked, flags, decoded.fields);
    }
    if (block.endStream && !stream.closed) this.remoteEnd(stream);
  }

  /** Streams above the server's last-stream-id were not processed: they end REFUSED_STREAM (retry is safe). */
  protected override onPeerGoaway(code: number, lastStreamId: number): void {
    this.goawayReceived = true;
    const refused = h2Error("ERR_HTTP2_GOAWAY_SESSION", `the server sent GOAWAY (code ${code}) before processing this stream`);
    for (const stream of [...this.streams.values()]) if (stream.id > lastStreamId) this.closeStream(stream, H2Error.REFUSED_STREAM, true, refused);
    for (const p of this.pending.splice(0)) p.stream.onClosed(H2Error.REFUSED_STREAM, true, refused);
  }
}
