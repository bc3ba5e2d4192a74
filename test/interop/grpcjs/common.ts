// Shared pieces of the grpc-js interop peers (client.ts and server.ts):
// proto loading, message typings, TLS fixture paths and a tiny CLI parser.
//
// The protos are loaded at runtime with @grpc/proto-loader so these peers
// exercise grpc-js exactly the way a grpc-js user would, independently of the
// code this repository generates for Switchboard itself.

import { fileURLToPath } from 'node:url';
import * as path from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import type * as grpc from '@grpc/grpc-js';

const here = path.dirname(fileURLToPath(import.meta.url));

export const REPO_ROOT = path.resolve(here, '..', '..', '..');
export const TLS_DIR = path.join(REPO_ROOT, 'test', 'fixtures', 'tls');
export const PROTO_INCLUDE_DIR = '/usr/share/grpc-proto';

// keepCase keeps the proto field names (response_size, expect_compressed...)
// so the code reads like the interop descriptions. defaults:true makes unset
// scalars appear with their zero value and unset message fields appear as
// null, which is how "field present?" is tested below.
const packageDefinition = protoLoader.loadSync('grpc/testing/test.proto', {
  includeDirs: [PROTO_INCLUDE_DIR],
  keepCase: true,
  longs: Number,
  enums: String,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
});

function service(name: string): grpc.ServiceDefinition {
  const def = packageDefinition[name];
  if (def === undefined || 'format' in def || 'fileDescriptorProtos' in def) {
    throw new Error(`${name} is not a service in grpc/testing/test.proto`);
  }
  return def as unknown as grpc.ServiceDefinition;
}

export const TestServiceDefinition = service('grpc.testing.TestService');
export const UnimplementedServiceDefinition = service('grpc.testing.UnimplementedService');

// ---- message shapes as produced/accepted by proto-loader with the options above

export type PayloadType = 'COMPRESSABLE';

export interface Payload {
  type?: PayloadType | number;
  body: Buffer;
}

export interface BoolValue {
  value: boolean;
}

export interface EchoStatus {
  code: number;
  message: string;
}

export interface Empty {}

export interface SimpleRequest {
  response_type?: PayloadType | number;
  response_size?: number;
  payload?: Payload | null;
  fill_username?: boolean;
  fill_oauth_scope?: boolean;
  response_compressed?: BoolValue | null;
  response_status?: EchoStatus | null;
  expect_compressed?: BoolValue | null;
}

export interface SimpleResponse {
  payload: Payload | null;
  username: string;
  oauth_scope: string;
}

export interface StreamingInputCallRequest {
  payload?: Payload | null;
  expect_compressed?: BoolValue | null;
}

export interface StreamingInputCallResponse {
  aggregated_payload_size: number;
}

export interface ResponseParameters {
  size: number;
  interval_us?: number;
  compressed?: BoolValue | null;
}

export interface StreamingOutputCallRequest {
  response_type?: PayloadType | number;
  response_parameters?: ResponseParameters[];
  payload?: Payload | null;
  response_status?: EchoStatus | null;
}

export interface StreamingOutputCallResponse {
  payload: Payload | null;
}

export const ECHO_INITIAL_KEY = 'x-grpc-test-echo-initial';
export const ECHO_TRAILING_KEY = 'x-grpc-test-echo-trailing-bin';

export function zeros(size: number): Buffer {
  return Buffer.alloc(size);
}

export function isAllZero(buf: Buffer): boolean {
  for (const byte of buf) {
    if (byte !== 0) return false;
  }
  return true;
}

// ---- CLI parsing
//
// Accepts the interop-harness style `--flag=value` as well as `--flag value`.
// Boolean flags may be given bare (`--use_tls`) or as `--use_tls=true|false`
// (the form the upstream interop runners use).

export function parseArgs(
  argv: string[],
  spec: { strings: readonly string[]; booleans: readonly string[] },
): { strings: Map<string, string>; booleans: Map<string, boolean> } {
  const strings = new Map<string, string>();
  const booleans = new Map<string, boolean>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument: ${arg}`);
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    if (spec.booleans.includes(name)) {
      let value = inline;
      const next = argv[i + 1];
      if (value === undefined && (next === 'true' || next === 'false')) {
        value = next;
        i++;
      }
      if (value !== undefined && value !== 'true' && value !== 'false') {
        throw new Error(`--${name} takes true or false, got ${value}`);
      }
      booleans.set(name, value !== 'false');
    } else if (spec.strings.includes(name)) {
      let value = inline;
      if (value === undefined) {
        value = argv[i + 1];
        i++;
      }
      if (value === undefined) throw new Error(`--${name} needs a value`);
      strings.set(name, value);
    } else {
      throw new Error(`unknown flag: --${name}`);
    }
  }
  return { strings, booleans };
}
