// Keys and values as etcd stores them (bytes), and the prefix ranges of its Range/Watch/DeleteRange.
import type { KeyValue } from "../gen/etcd/mvccpb/kv_pb.js";

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** A key or value given as text (UTF-8) or bytes. */
export type Bytes = string | Uint8Array;

export function toBytes(v: Bytes): Uint8Array {
  return typeof v === "string" ? utf8.encode(v) : v;
}

/**
 * The range_end that makes [key, range_end) every key starting with `prefix`: the prefix with
 * its last byte below 0xff incremented and the rest dropped; "\0" (all keys) when there is none.
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i]! < 0xff) {
      const end = prefix.slice(0, i + 1);
      end[i]!++;
      return end;
    }
  }
  return new Uint8Array([0]);
}

/** One key as the client hands it out: text for convenience, bytes when the value is not text. */
export interface EtcdKeyValue {
  key: string;
  value: string;
  rawValue: Uint8Array;
  createRevision: bigint;
  modRevision: bigint;
  version: bigint;
  /** The lease the key is attached to (0n: none). */
  lease: bigint;
}

export function fromKv(kv: KeyValue): EtcdKeyValue {
  return {
    key: fromUtf8.decode(kv.key),
    value: fromUtf8.decode(kv.value),
    rawValue: kv.value,
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    version: kv.version,
    lease: kv.lease,
  };
}
