// gRPC interop test client on grpc-js, following the grpc repo's
// doc/interop-test-descriptions.md.
//
//   npx tsx test/interop/grpcjs/client.ts --server_host 127.0.0.1 --server_port P \
//     --test_case all|NAME[,NAME...] [--use_tls] [--server_host_override NAME] [--ca_file PATH]
//
// Prints one line per case (`PASS name`, `PASS name (not checked: ...)`,
// `FAIL name: reason`, `SKIP name: reason`), then `N passed, M failed, K
// skipped`; exits 0 iff nothing failed.
//
// Every case runs on its own channels (with a private subchannel pool) so a
// broken connection or a compression downgrade in one case cannot leak into
// the next, and every case is bounded by CASE_TIMEOUT_MS.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import {
  ECHO_INITIAL_KEY,
  ECHO_TRAILING_KEY,
  TLS_DIR,
  TestServiceDefinition,
  UnimplementedServiceDefinition,
  isAllZero,
  parseArgs,
  zeros,
  type Empty,
  type Payload,
  type SimpleRequest,
  type SimpleResponse,
  type StreamingInputCallRequest,
  type StreamingInputCallResponse,
  type StreamingOutputCallRequest,
  type StreamingOutputCallResponse,
} from './common.js';

const CASE_TIMEOUT_MS = 20_000;

// grpc-js's WriteFlags.NoCompress. The enum is a `const enum` in grpc-js's
// typings and not exported at runtime, so it cannot be imported under
// isolatedModules; grpc-js reads it from the `encoding` argument of write().
const WRITE_FLAG_NO_COMPRESS = 2;

const COMPRESSED_FLAG_NOTE =
  'compressed flag of received messages; grpc-js decompresses transparently and exposes neither the flag nor grpc-encoding';

// ---------------------------------------------------------------------------
// Method table

function method<Req, Res>(
  service: grpc.ServiceDefinition,
  name: string,
): grpc.MethodDefinition<Req, Res> {
  const def = service[name];
  if (def === undefined) throw new Error(`no method ${name}`);
  return def as grpc.MethodDefinition<Req, Res>;
}

const EmptyCall = method<Empty, Empty>(TestServiceDefinition, 'EmptyCall');
const UnaryCall = method<SimpleRequest, SimpleResponse>(TestServiceDefinition, 'UnaryCall');
const StreamingOutputCall = method<StreamingOutputCallRequest, StreamingOutputCallResponse>(
  TestServiceDefinition,
  'StreamingOutputCall',
);
const StreamingInputCall = method<StreamingInputCallRequest, StreamingInputCallResponse>(
  TestServiceDefinition,
  'StreamingInputCall',
);
const FullDuplexCall = method<StreamingOutputCallRequest, StreamingOutputCallResponse>(
  TestServiceDefinition,
  'FullDuplexCall',
);
const UnimplementedCall = method<Empty, Empty>(TestServiceDefinition, 'UnimplementedCall');
const UnimplementedServiceCall = method<Empty, Empty>(UnimplementedServiceDefinition, 'UnimplementedCall');

// ---------------------------------------------------------------------------
// Case plumbing

class CaseFailure extends Error {}
// For a case grpc-js cannot express at all. None of the implemented cases
// needs it today: the compression cases run what grpc-js can do and report
// the rest as "not checked" on their PASS line.
class CaseSkipped extends Error {}

function fail(reason: string): never {
  throw new CaseFailure(reason);
}

interface Target {
  address: string;
  credentials: grpc.ChannelCredentials;
  options: grpc.ChannelOptions;
}

class CaseContext {
  readonly deadline: Date;
  /** Things the description asks for that grpc-js cannot observe. */
  readonly notChecked: string[] = [];
  private readonly clients: grpc.Client[] = [];

  constructor(private readonly target: Target) {
    this.deadline = new Date(Date.now() + CASE_TIMEOUT_MS);
  }

  /** A fresh channel; `compression` selects what grpc-js compresses requests with. */
  client(compression: grpc.compressionAlgorithms = grpc.compressionAlgorithms.identity): grpc.Client {
    const client = new grpc.Client(this.target.address, this.target.credentials, {
      ...this.target.options,
      'grpc.use_local_subchannel_pool': 1,
      'grpc.default_compression_algorithm': compression,
    });
    this.clients.push(client);
    return client;
  }

  close(): void {
    for (const c of this.clients) c.close();
  }
}

function describeStatus(s: { code: number; details: string }): string {
  const name = grpc.status[s.code] ?? 'UNRECOGNISED';
  return `${name}(${s.code}) ${JSON.stringify(s.details)}`;
}

function expectCode(status: grpc.StatusObject, code: grpc.status, what: string): void {
  if (status.code !== code) {
    fail(`${what}: got ${describeStatus(status)}, want ${grpc.status[code]}`);
  }
}

function expectPayload(payload: Payload | null | undefined, size: number, what: string): void {
  if (payload == null) fail(`${what}: no payload`);
  if (payload.body.length !== size) fail(`${what}: payload body is ${payload.body.length} bytes, want ${size}`);
  if (!isAllZero(payload.body)) fail(`${what}: payload body is not all zeros`);
  if (payload.type !== 'COMPRESSABLE') fail(`${what}: payload type ${String(payload.type)}, want COMPRESSABLE`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------
// Call helpers. Each resolves once grpc-js reports the final status, so the
// status, headers and trailers are always available to the assertions.

interface UnaryResult<Res> {
  response: Res | undefined;
  headers: grpc.Metadata | null;
  status: grpc.StatusObject;
}

function unary<Req, Res>(
  client: grpc.Client,
  m: grpc.MethodDefinition<Req, Res>,
  request: Req,
  options: grpc.CallOptions,
  metadata: grpc.Metadata = new grpc.Metadata(),
): Promise<UnaryResult<Res>> {
  return new Promise((resolve) => {
    let response: Res | undefined;
    let headers: grpc.Metadata | null = null;
    const call = client.makeUnaryRequest(
      m.path,
      m.requestSerialize,
      m.responseDeserialize,
      request,
      metadata,
      options,
      (_err, res) => {
        response = res;
      },
    );
    call.on('metadata', (md: grpc.Metadata) => {
      headers = md;
    });
    call.on('status', (status: grpc.StatusObject) => resolve({ response, headers, status }));
  });
}

function clientStream<Req, Res>(
  client: grpc.Client,
  m: grpc.MethodDefinition<Req, Res>,
  options: grpc.CallOptions,
): { call: grpc.ClientWritableStream<Req>; result: Promise<UnaryResult<Res>> } {
  let call!: grpc.ClientWritableStream<Req>;
  const result = new Promise<UnaryResult<Res>>((resolve) => {
    let response: Res | undefined;
    let headers: grpc.Metadata | null = null;
    call = client.makeClientStreamRequest(
      m.path,
      m.requestSerialize,
      m.responseDeserialize,
      new grpc.Metadata(),
      options,
      (_err, res) => {
        response = res;
      },
    );
    call.on('metadata', (md: grpc.Metadata) => {
      headers = md;
    });
    call.on('status', (status: grpc.StatusObject) => resolve({ response, headers, status }));
    // A failed write surfaces as a stream error; the status says why.
    call.on('error', () => {});
  });
  return { call, result };
}

/** Pull-style reader over a server-streaming or bidi call. */
class Reader<T> {
  headers: grpc.Metadata | null = null;
  readonly status: Promise<grpc.StatusObject>;
  private readonly queue: T[] = [];
  private ended = false;
  private waiter: ((v: T | null) => void) | null = null;

  // Typed as a plain Readable so that both ClientReadableStream<T> and
  // ClientDuplexStream<Req, T> fit; grpc-js emits deserialized T as 'data'.
  constructor(stream: Readable) {
    stream.on('metadata', (md: grpc.Metadata) => {
      this.headers = md;
    });
    stream.on('data', (msg: T) => {
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = null;
        w(msg);
      } else {
        this.queue.push(msg);
      }
    });
    const finish = () => {
      this.ended = true;
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = null;
        w(null);
      }
    };
    stream.on('end', finish);
    stream.on('close', finish);
    // Non-OK statuses are also emitted as 'error'; they are read from
    // `status` instead, and an unhandled 'error' would crash the process.
    stream.on('error', () => {});
    this.status = new Promise((resolve) => stream.on('status', resolve));
  }

  /** The next message, or null once the server has closed the stream. */
  next(): Promise<T | null> {
    const msg = this.queue.shift();
    if (msg !== undefined) return Promise.resolve(msg);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  async rest(): Promise<T[]> {
    const out: T[] = [];
    for (let m = await this.next(); m !== null; m = await this.next()) out.push(m);
    return out;
  }
}

function bidi<Req, Res>(
  client: grpc.Client,
  m: grpc.MethodDefinition<Req, Res>,
  options: grpc.CallOptions,
  metadata: grpc.Metadata = new grpc.Metadata(),
): { call: grpc.ClientDuplexStream<Req, Res>; reader: Reader<Res> } {
  const call = client.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, metadata, options);
  return { call, reader: new Reader<Res>(call) };
}

function waitForReady(client: grpc.Client, deadline: Date): Promise<void> {
  return new Promise((resolve, reject) => {
    client.waitForReady(deadline, (err) => (err ? reject(err) : resolve()));
  });
}

// ---------------------------------------------------------------------------
// The cases

const LARGE_REQUEST = 271828;
const LARGE_RESPONSE = 314159;

async function emptyUnary(ctx: CaseContext): Promise<void> {
  const r = await unary(ctx.client(), EmptyCall, {}, { deadline: ctx.deadline });
  expectCode(r.status, grpc.status.OK, 'EmptyCall');
  if (r.response == null) fail('EmptyCall: response is null');
}

async function largeUnary(ctx: CaseContext): Promise<void> {
  const r = await unary(
    ctx.client(),
    UnaryCall,
    { response_type: 'COMPRESSABLE', response_size: LARGE_RESPONSE, payload: { body: zeros(LARGE_REQUEST) } },
    { deadline: ctx.deadline },
  );
  expectCode(r.status, grpc.status.OK, 'UnaryCall');
  expectPayload(r.response?.payload, LARGE_RESPONSE, 'UnaryCall response');
}

async function clientStreaming(ctx: CaseContext): Promise<void> {
  const { call, result } = clientStream(ctx.client(), StreamingInputCall, { deadline: ctx.deadline });
  for (const size of [27182, 8, 1828, 45904]) call.write({ payload: { body: zeros(size) } });
  call.end();
  const r = await result;
  expectCode(r.status, grpc.status.OK, 'StreamingInputCall');
  const got = r.response?.aggregated_payload_size;
  if (got !== 74922) fail(`aggregated_payload_size is ${String(got)}, want 74922`);
}

const STREAM_SIZES = [31415, 9, 2653, 58979];

async function serverStreaming(ctx: CaseContext): Promise<void> {
  const client = ctx.client();
  const stream = client.makeServerStreamRequest(
    StreamingOutputCall.path,
    StreamingOutputCall.requestSerialize,
    StreamingOutputCall.responseDeserialize,
    { response_type: 'COMPRESSABLE', response_parameters: STREAM_SIZES.map((size) => ({ size })) },
    new grpc.Metadata(),
    { deadline: ctx.deadline },
  );
  const reader = new Reader<StreamingOutputCallResponse>(stream);
  const msgs = await reader.rest();
  expectCode(await reader.status, grpc.status.OK, 'StreamingOutputCall');
  if (msgs.length !== STREAM_SIZES.length) fail(`got ${msgs.length} responses, want ${STREAM_SIZES.length}`);
  msgs.forEach((m, i) => expectPayload(m.payload, STREAM_SIZES[i]!, `response ${i}`));
}

async function pingPong(ctx: CaseContext): Promise<void> {
  const requestSizes = [27182, 8, 1828, 45904];
  const { call, reader } = bidi(ctx.client(), FullDuplexCall, { deadline: ctx.deadline });
  for (let i = 0; i < requestSizes.length; i++) {
    call.write({
      response_type: 'COMPRESSABLE',
      response_parameters: [{ size: STREAM_SIZES[i]! }],
      payload: { body: zeros(requestSizes[i]!) },
    });
    const msg = await reader.next();
    if (msg === null) fail(`stream ended after ${i} responses: ${describeStatus(await reader.status)}`);
    expectPayload(msg.payload, STREAM_SIZES[i]!, `response ${i}`);
  }
  call.end();
  const extra = await reader.rest();
  if (extra.length > 0) fail(`got ${STREAM_SIZES.length + extra.length} responses, want ${STREAM_SIZES.length}`);
  expectCode(await reader.status, grpc.status.OK, 'FullDuplexCall');
}

async function emptyStream(ctx: CaseContext): Promise<void> {
  const { call, reader } = bidi(ctx.client(), FullDuplexCall, { deadline: ctx.deadline });
  call.end();
  const msgs = await reader.rest();
  expectCode(await reader.status, grpc.status.OK, 'FullDuplexCall');
  if (msgs.length !== 0) fail(`got ${msgs.length} responses, want 0`);
}

async function timeoutOnSleepingServer(ctx: CaseContext): Promise<void> {
  const { call, reader } = bidi(ctx.client(), FullDuplexCall, { deadline: Date.now() + 1 });
  call.write({ payload: { body: zeros(27182) } });
  await reader.rest();
  expectCode(await reader.status, grpc.status.DEADLINE_EXCEEDED, 'FullDuplexCall with 1 ms timeout');
}

async function cancelAfterBegin(ctx: CaseContext): Promise<void> {
  const client = ctx.client();
  // The description wants the cancel to come "after metadata has been sent
  // but before payloads are sent". grpc-js starts the HTTP/2 stream
  // asynchronously and has no "headers sent" event, so cancelling in the
  // same tick would usually cancel a call the server never saw. Connect
  // first, then give the HEADERS frame a moment to go out.
  await waitForReady(client, ctx.deadline);
  const { call, result } = clientStream(client, StreamingInputCall, { deadline: ctx.deadline });
  await sleep(50);
  call.cancel();
  const r = await result;
  expectCode(r.status, grpc.status.CANCELLED, 'StreamingInputCall');
}

async function cancelAfterFirstResponse(ctx: CaseContext): Promise<void> {
  const { call, reader } = bidi(ctx.client(), FullDuplexCall, { deadline: ctx.deadline });
  call.write({
    response_type: 'COMPRESSABLE',
    response_parameters: [{ size: 31415 }],
    payload: { body: zeros(27182) },
  });
  const first = await reader.next();
  if (first === null) fail(`stream ended before the first response: ${describeStatus(await reader.status)}`);
  call.cancel();
  expectCode(await reader.status, grpc.status.CANCELLED, 'FullDuplexCall');
  expectPayload(first.payload, 31415, 'first response');
}

const TEST_STATUS = { code: 2, message: 'test status message' };

async function statusCodeAndMessage(ctx: CaseContext): Promise<void> {
  const client = ctx.client();
  const r = await unary(client, UnaryCall, { response_status: TEST_STATUS }, { deadline: ctx.deadline });
  checkEchoedStatus(r.status, TEST_STATUS, 'UnaryCall');

  const { call, reader } = bidi(client, FullDuplexCall, { deadline: ctx.deadline });
  call.write({ response_status: TEST_STATUS });
  call.end();
  await reader.rest();
  checkEchoedStatus(await reader.status, TEST_STATUS, 'FullDuplexCall');
}

function checkEchoedStatus(got: grpc.StatusObject, want: { code: number; message: string }, what: string): void {
  if (got.code !== want.code || got.details !== want.message) {
    fail(`${what}: got ${describeStatus(got)}, want ${describeStatus({ code: want.code, details: want.message })}`);
  }
}

async function specialStatusMessage(ctx: CaseContext): Promise<void> {
  const want = { code: 2, message: '\t\ntest with whitespace\r\nand Unicode BMP \u263A and non-BMP \u{1F608}\t\n' };
  const r = await unary(ctx.client(), UnaryCall, { response_status: want }, { deadline: ctx.deadline });
  checkEchoedStatus(r.status, want, 'UnaryCall');
}

async function customMetadata(ctx: CaseContext): Promise<void> {
  const initialValue = 'test_initial_metadata_value';
  const trailingValue = Buffer.from([0xab, 0xab, 0xab]);
  const metadata = (): grpc.Metadata => {
    const md = new grpc.Metadata();
    md.set(ECHO_INITIAL_KEY, initialValue);
    md.set(ECHO_TRAILING_KEY, trailingValue);
    return md;
  };
  const checkEcho = (headers: grpc.Metadata | null, trailers: grpc.Metadata, what: string) => {
    const initial = headers?.get(ECHO_INITIAL_KEY) ?? [];
    if (initial.length !== 1 || initial[0] !== initialValue) {
      fail(`${what}: initial metadata ${ECHO_INITIAL_KEY} is ${JSON.stringify(initial)}, want ["${initialValue}"]`);
    }
    const trailing = trailers.get(ECHO_TRAILING_KEY);
    const value = trailing[0];
    if (trailing.length !== 1 || !Buffer.isBuffer(value) || !value.equals(trailingValue)) {
      const shown = trailing.map((v) => (Buffer.isBuffer(v) ? `0x${v.toString('hex')}` : JSON.stringify(v)));
      fail(`${what}: trailing metadata ${ECHO_TRAILING_KEY} is [${shown.join(', ')}], want [0xababab]`);
    }
  };

  const client = ctx.client();
  const r = await unary(
    client,
    UnaryCall,
    { response_type: 'COMPRESSABLE', response_size: LARGE_RESPONSE, payload: { body: zeros(LARGE_REQUEST) } },
    { deadline: ctx.deadline },
    metadata(),
  );
  expectCode(r.status, grpc.status.OK, 'UnaryCall');
  checkEcho(r.headers, r.status.metadata, 'UnaryCall');
  expectPayload(r.response?.payload, LARGE_RESPONSE, 'UnaryCall response');

  const { call, reader } = bidi(client, FullDuplexCall, { deadline: ctx.deadline }, metadata());
  call.write({
    response_type: 'COMPRESSABLE',
    response_parameters: [{ size: LARGE_RESPONSE }],
    payload: { body: zeros(LARGE_REQUEST) },
  });
  call.end();
  const msgs = await reader.rest();
  const status = await reader.status;
  expectCode(status, grpc.status.OK, 'FullDuplexCall');
  checkEcho(reader.headers, status.metadata, 'FullDuplexCall');
  if (msgs.length !== 1) fail(`FullDuplexCall: got ${msgs.length} responses, want 1`);
  expectPayload(msgs[0]!.payload, LARGE_RESPONSE, 'FullDuplexCall response');
}

async function unimplementedMethod(ctx: CaseContext): Promise<void> {
  const r = await unary(ctx.client(), UnimplementedCall, {}, { deadline: ctx.deadline });
  expectCode(r.status, grpc.status.UNIMPLEMENTED, 'TestService/UnimplementedCall');
}

async function unimplementedService(ctx: CaseContext): Promise<void> {
  const r = await unary(ctx.client(), UnimplementedServiceCall, {}, { deadline: ctx.deadline });
  expectCode(r.status, grpc.status.UNIMPLEMENTED, 'UnimplementedService/UnimplementedCall');
}

// The feature probe of the client_compressed_* cases: an uncompressed request
// carrying expect_compressed=true must be refused with INVALID_ARGUMENT. The
// descriptions contradict themselves for the streaming probe; this follows
// the strict reading (the "Client asserts" list), which is also what C-core
// servers and the C++/Java clients implement. When the probe fails, the
// remaining steps still run so the report says whether they worked.
function probeProblem(status: grpc.StatusObject): string | null {
  return status.code === grpc.status.INVALID_ARGUMENT
    ? null
    : `probe (uncompressed, expect_compressed=true) got ${describeStatus(status)}, want INVALID_ARGUMENT`;
}

async function clientCompressedUnary(ctx: CaseContext): Promise<void> {
  const request = (expectCompressed: boolean): SimpleRequest => ({
    response_type: 'COMPRESSABLE',
    expect_compressed: { value: expectCompressed },
    response_size: LARGE_RESPONSE,
    payload: { body: zeros(LARGE_REQUEST) },
  });
  const plain = ctx.client(grpc.compressionAlgorithms.identity);
  // A channel whose only call is the compressed one: grpc-js silently falls
  // back to identity on a channel once a server's grpc-accept-encoding has
  // omitted gzip, which a fresh channel cannot have seen yet.
  const gzip = ctx.client(grpc.compressionAlgorithms.gzip);

  const probe = await unary(plain, UnaryCall, request(true), { deadline: ctx.deadline });
  const problem = probeProblem(probe.status);

  const steps: [grpc.Client, boolean, string][] = [
    [gzip, true, 'compressed call (gzip, expect_compressed=true)'],
    [plain, false, 'uncompressed call (expect_compressed=false)'],
  ];
  for (const [client, expectCompressed, what] of steps) {
    const r = await unary(client, UnaryCall, request(expectCompressed), { deadline: ctx.deadline });
    if (r.status.code !== grpc.status.OK) {
      fail(`${problem ? `${problem}; ` : ''}${what}: got ${describeStatus(r.status)}, want OK`);
    }
    expectPayload(r.response?.payload, LARGE_RESPONSE, `${what} response`);
  }
  if (problem) fail(`${problem}; the compressed and uncompressed calls succeeded`);
}

async function serverCompressedUnary(ctx: CaseContext): Promise<void> {
  const client = ctx.client();
  for (const compressed of [true, false]) {
    const r = await unary(
      client,
      UnaryCall,
      {
        response_type: 'COMPRESSABLE',
        response_compressed: { value: compressed },
        response_size: LARGE_RESPONSE,
        payload: { body: zeros(LARGE_REQUEST) },
      },
      { deadline: ctx.deadline },
    );
    expectCode(r.status, grpc.status.OK, `UnaryCall with response_compressed=${compressed}`);
    expectPayload(r.response?.payload, LARGE_RESPONSE, `response_compressed=${compressed} response`);
  }
  ctx.notChecked.push(COMPRESSED_FLAG_NOTE);
}

async function clientCompressedStreaming(ctx: CaseContext): Promise<void> {
  const plain = ctx.client(grpc.compressionAlgorithms.identity);
  const gzip = ctx.client(grpc.compressionAlgorithms.gzip);

  const probe = clientStream(plain, StreamingInputCall, { deadline: ctx.deadline });
  probe.call.write({ expect_compressed: { value: true }, payload: { body: zeros(27182) } });
  probe.call.end();
  const problem = probeProblem((await probe.result).status);

  // One call on a gzip channel: the first message compressed, the second sent
  // with grpc-js's per-message NoCompress write flag (compressed-flag 0 on the
  // wire while the call's grpc-encoding stays gzip).
  const { call, result } = clientStream(gzip, StreamingInputCall, { deadline: ctx.deadline });
  call.write({ expect_compressed: { value: true }, payload: { body: zeros(27182) } });
  call.write({ expect_compressed: { value: false }, payload: { body: zeros(45904) } }, WRITE_FLAG_NO_COMPRESS);
  call.end();
  const r = await result;
  if (r.status.code !== grpc.status.OK) {
    fail(`${problem ? `${problem}; ` : ''}compressed+uncompressed stream: got ${describeStatus(r.status)}, want OK`);
  }
  const got = r.response?.aggregated_payload_size;
  if (got !== 73086) fail(`${problem ? `${problem}; ` : ''}aggregated_payload_size is ${String(got)}, want 73086`);
  if (problem) fail(`${problem}; the compressed+uncompressed stream succeeded`);
}

async function serverCompressedStreaming(ctx: CaseContext): Promise<void> {
  const sizes = [31415, 92653];
  const stream = ctx.client().makeServerStreamRequest(
    StreamingOutputCall.path,
    StreamingOutputCall.requestSerialize,
    StreamingOutputCall.responseDeserialize,
    {
      response_type: 'COMPRESSABLE',
      response_parameters: [
        { compressed: { value: true }, size: sizes[0]! },
        { compressed: { value: false }, size: sizes[1]! },
      ],
    },
    new grpc.Metadata(),
    { deadline: ctx.deadline },
  );
  const reader = new Reader<StreamingOutputCallResponse>(stream);
  const msgs = await reader.rest();
  expectCode(await reader.status, grpc.status.OK, 'StreamingOutputCall');
  if (msgs.length !== sizes.length) fail(`got ${msgs.length} responses, want ${sizes.length}`);
  msgs.forEach((m, i) => expectPayload(m.payload, sizes[i]!, `response ${i}`));
  ctx.notChecked.push(COMPRESSED_FLAG_NOTE);
}

const CASES: ReadonlyArray<[string, (ctx: CaseContext) => Promise<void>]> = [
  ['empty_unary', emptyUnary],
  ['large_unary', largeUnary],
  ['client_streaming', clientStreaming],
  ['server_streaming', serverStreaming],
  ['ping_pong', pingPong],
  ['empty_stream', emptyStream],
  ['timeout_on_sleeping_server', timeoutOnSleepingServer],
  ['cancel_after_begin', cancelAfterBegin],
  ['cancel_after_first_response', cancelAfterFirstResponse],
  ['status_code_and_message', statusCodeAndMessage],
  ['special_status_message', specialStatusMessage],
  ['custom_metadata', customMetadata],
  ['unimplemented_method', unimplementedMethod],
  ['unimplemented_service', unimplementedService],
  ['client_compressed_unary', clientCompressedUnary],
  ['server_compressed_unary', serverCompressedUnary],
  ['client_compressed_streaming', clientCompressedStreaming],
  ['server_compressed_streaming', serverCompressedStreaming],
];

// ---------------------------------------------------------------------------
// Driver

type Outcome = { kind: 'pass'; note?: string } | { kind: 'fail'; reason: string } | { kind: 'skip'; reason: string };

async function runCase(target: Target, run: (ctx: CaseContext) => Promise<void>): Promise<Outcome> {
  const ctx = new CaseContext(target);
  let timer: NodeJS.Timeout | undefined;
  // Calls carry the case deadline, so they end by themselves; the timer is
  // a backstop for a case stuck outside a call (e.g. an event never fired).
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new CaseFailure(`timed out after ${CASE_TIMEOUT_MS / 1000} s`)),
      CASE_TIMEOUT_MS + 2000,
    );
  });
  try {
    await Promise.race([run(ctx), timeout]);
    return ctx.notChecked.length > 0 ? { kind: 'pass', note: ctx.notChecked.join('; ') } : { kind: 'pass' };
  } catch (err) {
    if (err instanceof CaseSkipped) return { kind: 'skip', reason: err.message };
    if (err instanceof CaseFailure) return { kind: 'fail', reason: err.message };
    return { kind: 'fail', reason: `unexpected error: ${err instanceof Error ? err.message : String(err)}` };
  } finally {
    clearTimeout(timer);
    ctx.close();
  }
}

function usage(message: string): never {
  process.stderr.write(
    `${message}\nusage: tsx test/interop/grpcjs/client.ts --server_host H --server_port P ` +
      `--test_case all|NAME[,NAME...] [--use_tls] [--server_host_override NAME] [--ca_file PATH]\n` +
      `cases: ${CASES.map(([n]) => n).join(', ')}\n`,
  );
  process.exit(2);
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs(process.argv.slice(2), {
      strings: ['server_host', 'server_port', 'test_case', 'server_host_override', 'ca_file'],
      booleans: ['use_tls'],
    });
  } catch (err) {
    usage(err instanceof Error ? err.message : String(err));
  }
  const host = args.strings.get('server_host');
  const port = args.strings.get('server_port');
  const testCase = args.strings.get('test_case');
  if (!host || !port || !testCase) usage('--server_host, --server_port and --test_case are required');

  const names = testCase === 'all' ? CASES.map(([n]) => n) : testCase.split(',').map((s) => s.trim());
  const selected = names.map((name) => {
    const entry = CASES.find(([n]) => n === name);
    if (!entry) usage(`unknown test case: ${name}`);
    return entry;
  });

  // IPv6 literals need brackets in a grpc-js target.
  const address = host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
  let target: Target;
  if (args.booleans.get('use_tls')) {
    const override = args.strings.get('server_host_override') ?? 'foo.test.google.fr';
    const caFile = args.strings.get('ca_file') ?? path.join(TLS_DIR, 'ca.pem');
    target = {
      address,
      credentials: grpc.credentials.createSsl(fs.readFileSync(caFile)),
      // The override is both the name the certificate is checked against and
      // the :authority, as the interop descriptions specify.
      options: { 'grpc.ssl_target_name_override': override, 'grpc.default_authority': override },
    };
  } else {
    target = { address, credentials: grpc.credentials.createInsecure(), options: {} };
  }

  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const [name, run] of selected) {
    const outcome = await runCase(target, run);
    switch (outcome.kind) {
      case 'pass':
        passed++;
        process.stdout.write(outcome.note ? `PASS ${name} (not checked: ${outcome.note})\n` : `PASS ${name}\n`);
        break;
      case 'fail':
        failed++;
        process.stdout.write(`FAIL ${name}: ${outcome.reason}\n`);
        break;
      case 'skip':
        skipped++;
        process.stdout.write(`SKIP ${name}: ${outcome.reason}\n`);
        break;
    }
  }
  process.stdout.write(`${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  // Closed channels may still hold timers for a moment; don't wait for them.
  process.exit(failed === 0 ? 0 : 1);
}

void main();
