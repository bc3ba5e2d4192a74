// One client command's connection to a server: the channel, request metadata, and the
// reflection client and descriptors built on it; close() releases all of it.
import type { Channel } from "../client/channel.js";
import type { Metadata } from "../metadata.js";
import { ServerDescriptors } from "./descriptors.js";
import { openChannel, parseDuration, parseHeaders, type ConnectionValues } from "./options.js";
import { ReflectionClient } from "./reflection-client.js";

export interface Session {
  channel: Channel;
  metadata: Metadata;
  reflection: ReflectionClient;
  descriptors: ServerDescriptors;
  /** --timeout in ms, if given. */
  timeoutMs: number | undefined;
  close(): void;
}

/** Opens a session to `target`; reflection streams get --timeout, or 10 s. */
export function openSession(target: string, values: ConnectionValues & { timeout?: string }): Session {
  const metadata = parseHeaders(values.header);
  const timeoutMs = values.timeout !== undefined ? parseDuration(values.timeout, "--timeout") : undefined;
  const channel = openChannel(target, values);
  const reflection = new ReflectionClient(channel, { metadata, timeoutMs: timeoutMs ?? 10_000 });
  return {
    channel,
    metadata,
    reflection,
    descriptors: new ServerDescriptors(reflection),
    timeoutMs,
    close() {
      reflection.close();
      channel.close();
    },
  };
}
