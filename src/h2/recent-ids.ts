// The last N stream ids of some kind (reset by us, or closed), for the rules that depend on
// how a stream ended (RFC 9113 5.1, 5.4.2). Bounded: the oldest id leaves when a new one
// comes, through a ring of ids rather than a Set iterator per stream (this runs per request).

export class RecentIds {
  private readonly ids = new Set<number>();
  private readonly ring: Int32Array;
  private next = 0;

  constructor(capacity: number) {
    this.ring = new Int32Array(capacity);
  }

  add(id: number): void {
    if (this.ids.has(id)) return;
    if (this.ids.size === this.ring.length) this.ids.delete(this.ring[this.next]!);
    this.ring[this.next] = id;
    this.next = (this.next + 1) % this.ring.length;
    this.ids.add(id);
  }

  has(id: number): boolean {
    return this.ids.has(id);
  }
}
