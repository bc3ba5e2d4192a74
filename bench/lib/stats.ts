// Small statistics helpers.

/** Nearest-rank percentile of `values` (sorted in place unless `sorted`). */
export function percentile(values: number[], p: number, sorted = false): number {
  if (values.length === 0) return NaN;
  if (!sorted) values.sort((a, b) => a - b);
  const rank = Math.min(values.length - 1, Math.max(0, Math.ceil((p / 100) * values.length) - 1));
  return values[rank]!;
}

export function median(values: readonly number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}
