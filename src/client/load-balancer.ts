// Client-side load balancing policies, named and behaving as in gRPC (grpc-js lb policies).
// A policy picks, for one new call, a pickable subchannel (ready, and SERVING under health
// checking) and asks idle subchannels to connect. Picks are synchronous: the channel waits for a
// state change and asks again when nothing is pickable.
import type { Subchannel } from "./subchannel.js";

/** The load balancing policies a channel can use. */
export type LoadBalancingPolicy = "pick_first" | "round_robin";

export interface LoadBalancer {
  /** A subchannel for a new call, or undefined (then connections were started as needed). */
  pick(list: readonly Subchannel[]): Subchannel | undefined;
}

/**
 * pick_first: addresses are tried one at a time in order; the first that connects takes every
 * call and keeps them while it stays ready (even when an earlier address comes back). When it
 * fails, the next pick starts over from the first address.
 */
export class PickFirst implements LoadBalancer {
  private selected: Subchannel | undefined;

  pick(list: readonly Subchannel[]): Subchannel | undefined {
    const sel = this.selected;
    if (sel !== undefined && sel.pickable) return sel;
    this.selected = undefined;
    for (const sc of list) {
      if (sc.pickable) return (this.selected = sc);
    }
    // One attempt at a time: wait for it before trying the next address.
    for (const sc of list) if (sc.state === "connecting" || sc.healthPending) return undefined;
    for (const sc of list) {
      if (sc.state === "idle") {
        sc.connect();
        return undefined;
      }
    }
    return undefined;
  }
}

/** round_robin: every address is kept connected; calls rotate over the pickable ones. */
export class RoundRobin implements LoadBalancer {
  private next = 0;

  pick(list: readonly Subchannel[]): Subchannel | undefined {
    const n = list.length;
    for (let i = 0; i < n; i++) if (list[i]!.state === "idle") list[i]!.connect();
    for (let i = 0; i < n; i++) {
      const idx = (this.next + i) % n;
      const sc = list[idx]!;
      if (sc.pickable) {
        this.next = idx + 1;
        return sc;
      }
    }
    return undefined;
  }
}

export function createLoadBalancer(policy: LoadBalancingPolicy): LoadBalancer {
  return policy === "round_robin" ? new RoundRobin() : new PickFirst();
}
