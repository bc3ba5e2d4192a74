// What one server connection is configured with, what the peer told us in its SETTINGS,
// and the error type that carries an RFC 9113 error code to the connection's error path.

export interface H2SessionOptions {
  /** SETTINGS_MAX_CONCURRENT_STREAMS we advertise and enforce (REFUSED_STREAM above it). */
  maxConcurrentStreams: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE we advertise; the application answers lists above it. */
  maxHeaderListSize: number;
  /** Header fields per list above which the stream is reset (ENHANCE_YOUR_CALM). */
  maxHeaderListPairs: number;
  /** SETTINGS_INITIAL_WINDOW_SIZE we advertise: each stream's receive window. */
  initialWindowSize: number;
  /** The connection's receive window (a WINDOW_UPDATE on stream 0 raises it at the start). */
  connectionWindowSize: number;
  /** SETTINGS_MAX_FRAME_SIZE we advertise; larger frames are a FRAME_SIZE_ERROR. */
  maxFrameSize: number;
  /** How long the peer has to acknowledge our SETTINGS (SETTINGS_TIMEOUT after that). */
  settingsTimeoutMs: number;
  /** A header block (HEADERS + CONTINUATION) above this many bytes or frames ends the connection. */
  maxHeaderBlockBytes: number;
  maxContinuationFrames: number;
  /** Budget of frames that cost work without progress (PING, SETTINGS, PRIORITY, empty DATA, RST on closed streams, unknown). */
  floodBurst: number;
  floodRatePerSecond: number;
  /** Streams the peer may reset before we answered them, in a burst and then per second (rapid reset, CVE-2023-44487). */
  resetBurst: number;
  resetRatePerSecond: number;
  /** Outgoing DATA the socket may hold for a peer that does not read before we give up. */
  maxQueuedDataBytes: number;
}

export const DEFAULT_SESSION_OPTIONS: H2SessionOptions = {
  maxConcurrentStreams: 256,
  maxHeaderListSize: 16 * 1024,
  maxHeaderListPairs: 128,
  initialWindowSize: 65_535,
  connectionWindowSize: 65_535,
  maxFrameSize: 16_384,
  settingsTimeoutMs: 10_000,
  maxHeaderBlockBytes: 256 * 1024,
  maxContinuationFrames: 64,
  floodBurst: 1_000,
  floodRatePerSecond: 1_000,
  maxQueuedDataBytes: 64 * 1024 * 1024,
  resetBurst: 200,
  resetRatePerSecond: 50,
};

/** The peer's SETTINGS (RFC 9113 6.5.2), defaults until its first SETTINGS frame. */
export interface PeerSettings {
  headerTableSize: number;
  enablePush: boolean;
  maxConcurrentStreams: number;
  initialWindowSize: number;
  maxFrameSize: number;
  maxHeaderListSize: number;
}

/** A connection error with its RFC 9113 code; thrown inside frame handling, answered with GOAWAY. */
export class H2ProtocolError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = "H2ProtocolError";
  }
}
