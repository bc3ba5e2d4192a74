// grpc.testing.TestService implemented on grpc-js: a reference interop server
// to validate the interop clients against (and to compare Switchboard with).
//
//   npx tsx test/interop/grpcjs/server.ts --port 0 [--use_tls]
//
// Prints `listening on 127.0.0.1:<port>` once it accepts connections and
// exits cleanly on SIGTERM/SIGINT. When a harness will signal it, start it
// with `node --import tsx ...` (or node_modules/.bin/tsx): `npx` does not
// forward SIGTERM, so signalling the npx process orphans the server.
//
// Compression: grpc-js 1.14 as a server never compresses responses and does
// not tell handlers whether a request message was compressed. Like grpc-node's
// own interop server, this server therefore ignores `response_compressed`,
// `ResponseParameters.compressed` and `expect_compressed` (it cannot honour
// the CompressedResponse / CompressedRequest features), so the
// client_compressed_* probes get OK instead of INVALID_ARGUMENT here.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  ECHO_INITIAL_KEY,
  ECHO_TRAILING_KEY,
  TLS_DIR,
  TestServiceDefinition,
  parseArgs,
  zeros,
  type EchoStatus,
  type Empty,
  type Payload,
  type SimpleRequest,
  type SimpleResponse,
  type StreamingInputCallRequest,
  type StreamingInputCallResponse,
  type StreamingOutputCallRequest,
  type StreamingOutputCallResponse,
} from './common.js';

// Echo Metadata: the initial key comes back in the response headers, the
// binary trailing key in the trailers. Applied to every method, as grpc-node's
// interop server does; the descriptions only require UnaryCall and
// FullDuplexCall.
function echoInitial(call: { metadata: grpc.Metadata; sendMetadata(md: grpc.Metadata): void }): void {
  const values = call.metadata.get(ECHO_INITIAL_KEY);
  if (values.length > 0) {
    const md = new grpc.Metadata();
    for (const v of values) md.add(ECHO_INITIAL_KEY, v);
    call.sendMetadata(md);
  }
}

function echoTrailer(call: { metadata: grpc.Metadata }): grpc.Metadata {
  const md = new grpc.Metadata();
  for (const v of call.metadata.get(ECHO_TRAILING_KEY)) md.add(ECHO_TRAILING_KEY, v);
  return md;
}

// Echo Status: a response_status with a non-OK code ends the call with that
// code and message. A present-but-OK status is treated as "no status
// requested" so the call proceeds normally.
function requestedStatus(status: EchoStatus | null | undefined): EchoStatus | null {
  return status != null && status.code !== grpc.status.OK ? status : null;
}

class InvalidArgument extends Error {}

// Only COMPRESSABLE exists in messages.proto; anything else (an unknown enum
// number) must fail with INVALID_ARGUMENT per the UnaryCall description.
function makePayload(type: SimpleRequest['response_type'], size: number): Payload {
  if (type !== undefined && type !== 'COMPRESSABLE') {
    throw new InvalidArgument(`unsupported response_type ${String(type)}`);
  }
  if (!Number.isInteger(size) || size < 0) {
    throw new InvalidArgument(`invalid payload size ${size}`);
  }
  return { type: 'COMPRESSABLE', body: zeros(size) };
}

function sleepMicros(us: number | undefined): Promise<void> {
  if (!us || us <= 0) return Promise.resolve();
  return new Promise((resolve) => setTimeout(resolve, us / 1000));
}

// Either kind of server call that sends StreamingOutputCallResponses.
type ResponseSink =
  | grpc.ServerWritableStream<StreamingOutputCallRequest, StreamingOutputCallResponse>
  | grpc.ServerDuplexStream<StreamingOutputCallRequest, StreamingOutputCallResponse>;

function statusError(code: grpc.status, details: string, metadata: grpc.Metadata): grpc.ServerErrorResponse {
  return Object.assign(new Error(details), { code, details, metadata });
}

// Sends the responses described by one StreamingOutputCallRequest, honouring
// interval_us (a sleep before each response, relative to the previous one)
// and write back-pressure. Resolves false if the call went away meanwhile.
async function sendResponses(
  call: ResponseSink,
  req: StreamingOutputCallRequest,
  isDone: () => boolean,
): Promise<boolean> {
  for (const params of req.response_parameters ?? []) {
    await sleepMicros(params.interval_us);
    if (isDone()) return false;
    const payload = makePayload(req.response_type, params.size);
    if (!call.write({ payload })) {
      await new Promise<void>((resolve) => {
        const done = () => {
          call.off('drain', done);
          call.off('cancelled', done);
          call.off('close', done);
          resolve();
        };
        call.on('drain', done);
        call.on('cancelled', done);
        call.on('close', done);
      });
    }
  }
  return !isDone();
}

function failStream(
  call: ResponseSink,
  err: unknown,
): void {
  const code = err instanceof InvalidArgument ? grpc.status.INVALID_ARGUMENT : grpc.status.INTERNAL;
  const details = err instanceof Error ? err.message : String(err);
  call.emit('error', statusError(code, details, echoTrailer(call)));
}

const handlers = {
  EmptyCall(call: grpc.ServerUnaryCall<Empty, Empty>, callback: grpc.sendUnaryData<Empty>): void {
    echoInitial(call);
    callback(null, {}, echoTrailer(call));
  },

  UnaryCall(
    call: grpc.ServerUnaryCall<SimpleRequest, SimpleResponse>,
    callback: grpc.sendUnaryData<SimpleResponse>,
  ): void {
    echoInitial(call);
    const req = call.request;
    const status = requestedStatus(req.response_status);
    if (status) {
      callback(statusError(status.code, status.message, echoTrailer(call)));
      return;
    }
    try {
      const payload = makePayload(req.response_type, req.response_size ?? 0);
      callback(null, { payload, username: '', oauth_scope: '' }, echoTrailer(call));
    } catch (err) {
      const code = err instanceof InvalidArgument ? grpc.status.INVALID_ARGUMENT : grpc.status.INTERNAL;
      callback(statusError(code, err instanceof Error ? err.message : String(err), echoTrailer(call)));
    }
  },

  // The request content is ignored; the payload is the current time in
  // nanoseconds and the headers allow a caching proxy to keep it for 60 s.
  CacheableUnaryCall(
    call: grpc.ServerUnaryCall<SimpleRequest, SimpleResponse>,
    callback: grpc.sendUnaryData<SimpleResponse>,
  ): void {
    const md = new grpc.Metadata();
    for (const v of call.metadata.get(ECHO_INITIAL_KEY)) md.add(ECHO_INITIAL_KEY, v);
    md.set('cache-control', 'max-age=60, public');
    call.sendMetadata(md);
    // Wall-clock milliseconds padded with the monotonic clock's sub-millisecond
    // part: only "different for each request" matters, not accuracy.
    const nowNs = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
    callback(
      null,
      { payload: { type: 'COMPRESSABLE', body: Buffer.from(nowNs.toString()) }, username: '', oauth_scope: '' },
      echoTrailer(call),
    );
  },

  StreamingOutputCall(call: grpc.ServerWritableStream<StreamingOutputCallRequest, StreamingOutputCallResponse>): void {
    echoInitial(call);
    let cancelled = false;
    call.on('cancelled', () => {
      cancelled = true;
    });
    const req = call.request;
    const status = requestedStatus(req.response_status);
    if (status) {
      call.emit('error', statusError(status.code, status.message, echoTrailer(call)));
      return;
    }
    sendResponses(call, req, () => cancelled).then(
      (alive) => {
        if (alive) call.end(echoTrailer(call));
      },
      (err: unknown) => failStream(call, err),
    );
  },

  StreamingInputCall(
    call: grpc.ServerReadableStream<StreamingInputCallRequest, StreamingInputCallResponse>,
    callback: grpc.sendUnaryData<StreamingInputCallResponse>,
  ): void {
    echoInitial(call);
    let aggregated = 0;
    call.on('data', (req: StreamingInputCallRequest) => {
      aggregated += req.payload?.body.length ?? 0;
    });
    call.on('end', () => {
      callback(null, { aggregated_payload_size: aggregated }, echoTrailer(call));
    });
    // A cancelled call needs no answer; the listener only keeps the stream
    // error (if any) from becoming an uncaught exception.
    call.on('error', () => {});
  },

  // Responses for each request are sent as the request arrives (in order),
  // the call ends with OK after the client half-closes and everything queued
  // has been sent. A non-OK response_status ends the call at that point and
  // later requests are not processed.
  FullDuplexCall(call: grpc.ServerDuplexStream<StreamingOutputCallRequest, StreamingOutputCallResponse>): void {
    echoInitial(call);
    let finished = false;
    call.on('cancelled', () => {
      finished = true;
    });
    call.on('error', () => {});
    let chain: Promise<void> = Promise.resolve();
    call.on('data', (req: StreamingOutputCallRequest) => {
      chain = chain.then(async () => {
        if (finished) return;
        const status = requestedStatus(req.response_status);
        if (status) {
          finished = true;
          call.emit('error', statusError(status.code, status.message, echoTrailer(call)));
          return;
        }
        await sendResponses(call, req, () => finished);
      }).catch((err: unknown) => {
        if (!finished) {
          finished = true;
          failStream(call, err);
        }
      });
    });
    call.on('end', () => {
      chain = chain.then(() => {
        if (!finished) {
          finished = true;
          call.end(echoTrailer(call));
        }
      });
    });
  },

  // test.proto: "The server buffers all the client requests and then serves
  // them in order". Nothing is sent until the client half-closes.
  HalfDuplexCall(call: grpc.ServerDuplexStream<StreamingOutputCallRequest, StreamingOutputCallResponse>): void {
    echoInitial(call);
    let finished = false;
    call.on('cancelled', () => {
      finished = true;
    });
    call.on('error', () => {});
    const requests: StreamingOutputCallRequest[] = [];
    call.on('data', (req: StreamingOutputCallRequest) => requests.push(req));
    call.on('end', () => {
      void (async () => {
        try {
          for (const req of requests) {
            if (finished) return;
            const status = requestedStatus(req.response_status);
            if (status) {
              finished = true;
              call.emit('error', statusError(status.code, status.message, echoTrailer(call)));
              return;
            }
            await sendResponses(call, req, () => finished);
          }
          if (!finished) {
            finished = true;
            call.end(echoTrailer(call));
          }
        } catch (err) {
          if (!finished) {
            finished = true;
            failStream(call, err);
          }
        }
      })();
    });
  },
  // UnimplementedCall is deliberately absent: grpc-js answers UNIMPLEMENTED.
};

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: tsx test/interop/grpcjs/server.ts --port N [--use_tls]\n`);
  process.exit(2);
}

function main(): void {
  let args;
  try {
    args = parseArgs(process.argv.slice(2), { strings: ['port'], booleans: ['use_tls'] });
  } catch (err) {
    usage(err instanceof Error ? err.message : String(err));
  }
  const portArg = args.strings.get('port');
  if (portArg === undefined) usage('--port is required');
  const port = Number(portArg);
  if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`bad --port ${portArg}`);

  const credentials = args.booleans.get('use_tls')
    ? grpc.ServerCredentials.createSsl(null, [
        {
          private_key: fs.readFileSync(path.join(TLS_DIR, 'server.key')),
          cert_chain: fs.readFileSync(path.join(TLS_DIR, 'server.pem')),
        },
      ])
    : grpc.ServerCredentials.createInsecure();

  const server = new grpc.Server();
  server.addService(TestServiceDefinition, handlers as unknown as grpc.UntypedServiceImplementation);

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    // Give in-flight calls a moment, then drop whatever is left.
    const force = setTimeout(() => {
      server.forceShutdown();
      process.exit(0);
    }, 2000);
    server.tryShutdown(() => {
      clearTimeout(force);
      process.exit(0);
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  server.bindAsync(`127.0.0.1:${port}`, credentials, (err, boundPort) => {
    if (err) {
      process.stderr.write(`bind failed: ${err.message}\n`);
      process.exit(1);
    }
    process.stdout.write(`listening on 127.0.0.1:${boundPort}\n`);
  });
}

main();
