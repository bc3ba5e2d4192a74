// Latency percentiles in constant memory: a fixed histogram with log-scale buckets (20 per
// decade, about 12 % wide) from 1 µs to 1000 s, so a method that served a billion calls costs
// the same few hundred numbers as one that served ten. Percentiles interpolate inside the
// bucket and are clamped to the smallest and largest value seen, so they stay exact at the ends.

const PER_DECADE = 20;
const MIN_MS = 1e-3;
const DECADES = 9;
/** Bucket i (1..N) holds values in [MIN_MS·10^((i-1)/20), MIN_MS·10^(i/20)); 0 holds smaller ones, N+1 larger ones. */
const N = PER_DECADE * DECADES;

function lowerBound(i: number): number {
  return i <= 0 ? 0 : MIN_MS * 10 ** ((i - 1) / PER_DECADE);
}

function bucketOf(ms: number): number {
  if (!(ms >= MIN_MS)) return 0;
  const i = Math.floor(Math.log10(ms / MIN_MS) * PER_DECADE) + 1;
  return i > N ? N + 1 : i;
}

/** A bounded latency histogram in milliseconds. */
export class LatencyHistogram {
  private readonly counts = new Float64Array(N + 2);
  private n = 0;
  private sum = 0;
  private lo = Infinity;
  private hi = -Infinity;

  /** Records one duration (negative or NaN values count as 0). */
  record(ms: number): void {
    const v = ms > 0 ? ms : 0;
    this.counts[bucketOf(v)]!++;
    this.n++;
    this.sum += v;
    if (v < this.lo) this.lo = v;
    if (v > this.hi) this.hi = v;
  }

  get count(): number {
    return this.n;
  }

  /** The mean in ms (undefined before the first value). */
  get mean(): number | undefined {
    return this.n === 0 ? undefined : this.sum / this.n;
  }

  get max(): number | undefined {
    return this.n === 0 ? undefined : this.hi;
  }

  /** Adds another histogram's values to this one. */
  merge(other: LatencyHistogram): void {
    if (other.n === 0) return;
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += other.counts[i]!;
    this.n += other.n;
    this.sum += other.sum;
    if (other.lo < this.lo) this.lo = other.lo;
    if (other.hi > this.hi) this.hi = other.hi;
  }

  /**
   * The q-quantile (0 < q <= 1) in ms, undefined before the first value: the value below which
   * a share q of the recorded values lie, placed inside its bucket by linear interpolation.
   */
  quantile(q: number): number | undefined {
    if (this.n === 0) return undefined;
    const rank = Math.min(Math.max(q, 0), 1) * this.n;
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      const c = this.counts[i]!;
      if (c === 0) continue;
      if (seen + c >= rank) {
        const lower = Math.max(lowerBound(i), this.lo);
        const upper = Math.min(i > N ? this.hi : lowerBound(i + 1), this.hi);
        const value = lower + (upper - lower) * ((rank - seen) / c);
        return Math.min(Math.max(value, this.lo), this.hi);
      }
      seen += c;
    }
    return this.hi;
  }
}
