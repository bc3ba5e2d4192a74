/**
 * The HPACK dynamic table (RFC 7541 sections 2.3.2, 4): a FIFO where new entries get the lowest index. Kept as a
 * ring buffer of names and values so that inserting and evicting are O(1) (no Array.unshift / shift).
 *
 * Sizes are in octets: the strings are latin1 (one char per octet), so an entry costs
 * name.length + value.length + 32 (section 4.1).
 */
export const ENTRY_OVERHEAD = 32;

export class DynamicTable {
  /** Current size in octets (section 4.1). */
  size = 0;
  /** Number of entries. */
  length = 0;
  /** Maximum size in octets; never exceeded (section 4.4). */
  maxSize: number;
  /** Number of entries ever inserted: the absolute number of the next entry (used by the encoder's lookups). */
  inserted = 0;

  private names: string[];
  private values: string[];
  private mask: number;
  /** Slot of the newest entry. */
  private head: number;

  /**
   * With `indexed`, the table also keeps lookups for the encoder: (name, value) -> newest absolute number and
   * name -> newest absolute number. The decoder does not pay for them.
   */
  readonly byField: Map<string, Map<string, number>> | undefined;
  readonly byName: Map<string, number> | undefined;

  constructor(maxSize: number, indexed = false) {
    this.maxSize = maxSize;
    this.names = new Array<string>(16).fill("");
    this.values = new Array<string>(16).fill("");
    this.mask = 15;
    this.head = 15;
    if (indexed) {
      this.byField = new Map();
      this.byName = new Map();
    }
  }

  /** Name of the entry at 0-based dynamic position `i` (0 = newest; wire index 62 + i). Caller checks i < length. */
  name(i: number): string {
    return this.names[(this.head - i) & this.mask]!;
  }

  value(i: number): string {
    return this.values[(this.head - i) & this.mask]!;
  }

  /** 0-based position of the entry with absolute number `n`, or -1 if it was evicted. */
  positionOf(n: number): number {
    const pos = this.inserted - 1 - n;
    return pos < this.length ? pos : -1;
  }

  /**
   * Inserts (name, value) after evicting what it needs (section 4.4). An entry larger than the maximum size empties
   * the table and is not inserted; returns whether it was.
   */
  add(name: string, value: string): boolean {
    const entrySize = name.length + value.length + ENTRY_OVERHEAD;
    if (entrySize > this.maxSize) {
      this.clear();
      return false;
    }
    while (this.size + entrySize > this.maxSize) this.evictOldest();
    if (this.length === this.mask + 1) this.grow();
    const slot = (this.head + 1) & this.mask;
    this.head = slot;
    this.names[slot] = name;
    this.values[slot] = value;
    this.length++;
    this.size += entrySize;
    const n = this.inserted++;
    if (this.byField !== undefined) {
      let values = this.byField.get(name);
      if (values === undefined) {
        values = new Map();
        this.byField.set(name, values);
      }
      values.set(value, n);
      this.byName!.set(name, n);
    }
    return true;
  }

  /** Empties the table (an entry larger than the maximum size was added, section 4.4). */
  clear(): void {
    while (this.length > 0) this.evictOldest();
  }

  /** Sets a new maximum size, evicting the oldest entries until the table fits (section 4.3). */
  setMaxSize(maxSize: number): void {
    this.maxSize = maxSize;
    while (this.size > maxSize) this.evictOldest();
  }

  private evictOldest(): void {
    const slot = (this.head - this.length + 1) & this.mask;
    const name = this.names[slot]!;
    const value = this.values[slot]!;
    this.size -= name.length + value.length + ENTRY_OVERHEAD;
    this.length--;
    // Release the strings now: the slot may not be reused for a long time.
    this.names[slot] = "";
    this.values[slot] = "";
    if (this.byField !== undefined) {
      // Entries leave oldest first, so if the newest entry with this name (or field) is the one leaving, no other
      // entry with it remains.
      const n = this.inserted - 1 - this.length;
      const values = this.byField.get(name);
      if (values !== undefined && values.get(value) === n) {
        values.delete(value);
        if (values.size === 0) this.byField.delete(name);
      }
      if (this.byName!.get(name) === n) this.byName!.delete(name);
    }
  }

  private grow(): void {
    const capacity = (this.mask + 1) * 2;
    const names = new Array<string>(capacity).fill("");
    const values = new Array<string>(capacity).fill("");
    // Oldest first, so the newest ends at slot length - 1.
    for (let i = this.length - 1, j = 0; i >= 0; i--, j++) {
      names[j] = this.name(i);
      values[j] = this.value(i);
    }
    this.names = names;
    this.values = values;
    this.head = this.length - 1;
    this.mask = capacity - 1;
  }
}
