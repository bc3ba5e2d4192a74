// One client command's view of a server: where descriptors come from (local --proto/--protoset
// files, or reflection over the channel), the channel itself (opened only when needed), request
// metadata and --timeout; close() releases all of it.
import type { Channel } from "../client/channel.js";
import type { Metadata } from "../metadata.js";
import type { DescriptorSource } from "./descriptor-source.js";
import { ServerDescriptors } from "./descriptors.js";
import { localDescriptors, type DescriptorFileValues } from "./local-descriptors.js";
import { openChannel, parseDuration, parseHeaders, usageError, type ConnectionValues } from "./options.js";
import { ReflectionClient } from "./reflection-client.js";

export type SessionValues = ConnectionValues & DescriptorFileValues & { timeout?: string };

export interface Session {
  descriptors: DescriptorSource;
  /** Whether descriptors come from local files (no server needed to look names up). */
  local: boolean;
  metadata: Metadata;
  /** --timeout in ms, if given. */
  timeoutMs: number | undefined;
  /** The channel to the server: there when the command calls the server or reflection is used. */
  channel: Channel | undefined;
  close(): void;
}

/**
 * Reads the options (usage errors before anything connects), loads --proto/--protoset files if
 * given, and otherwise prepares reflection (streams get --timeout, or 10 s). `calls`: the
 * command calls the server itself, so it needs HOST:PORT even with local descriptors.
 */
export function openSession(target: string | undefined, values: SessionValues, calls: boolean): Session {
  const metadata = parseHeaders(values.header);
  const timeoutMs = values.timeout !== undefined ? parseDuration(values.timeout, "--timeout") : undefined;
  const local = localDescriptors(values);
  const needsServer = calls || !local;
  if (needsServer && target === undefined) throw usageError("missing HOST:PORT");
  const channel = needsServer ? openChannel(target!, values) : undefined;
  const reflection = local ? undefined : new ReflectionClient(channel!, { metadata, timeoutMs: timeoutMs ?? 10_000 });
  return {
    descriptors: local ?? new ServerDescriptors(reflection!),
    local: local !== undefined,
    metadata,
    timeoutMs,
    channel,
    close() {
      reflection?.close();
      channel?.close();
    },
  };
}

/** A HOST:PORT (or unix:, dns: ... target) rather than a symbol name, which never has a colon. */
export function looksLikeTarget(arg: string): boolean {
  return arg.includes(":");
}

/**
 * HOST:PORT and the other arguments. With --proto/--protoset, ls and describe need no server:
 * their first argument is HOST:PORT only if it looks like one.
 */
export function splitTarget(positionals: readonly string[], values: DescriptorFileValues): { target: string | undefined; args: string[] } {
  const local = (values.proto?.length ?? 0) > 0 || (values.protoset?.length ?? 0) > 0;
  const [first, ...rest] = positionals;
  if (first === undefined) return { target: undefined, args: [] };
  if (local && !looksLikeTarget(first)) return { target: undefined, args: [...positionals] };
  return { target: first, args: rest };
}
