// Markdown tables of medians with ratios, written to stdout.
import { median } from "./stats.js";

export interface Metric {
  label: string;
  /** One value per round for every column key (NaN for a failed run), in round order. */
  values: Record<string, number[]>;
  better: "higher" | "lower";
}

export interface Column {
  key: string;
  label: string;
}

/** A few significant digits, thousands grouped. */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return "–";
  const a = Math.abs(v);
  const digits = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3;
  return v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function ratioCell(num: number[], den: number[]): string {
  const m = median(num) / median(den);
  if (!Number.isFinite(m)) return "–";
  const perRound = num.map((v, i) => v / den[i]!).filter((x) => Number.isFinite(x));
  if (perRound.length < 2) return `${m.toFixed(2)}x`;
  return `${m.toFixed(2)}x (${Math.min(...perRound).toFixed(2)}–${Math.max(...perRound).toFixed(2)})`;
}

/**
 * | metric | col... | a/b ... | with the median of every column and, per ratio, the ratio of
 * the medians followed by the range of the per-round ratios.
 */
export function table(columns: readonly Column[], ratios: readonly [string, string][], metrics: readonly Metric[]): string {
  const label = (k: string) => columns.find((c) => c.key === k)?.label ?? k;
  const head = ["metric (median)", ...columns.map((c) => c.label), ...ratios.map(([a, b]) => `${label(a)}/${label(b)}`)];
  const lines = [`| ${head.join(" | ")} |`, `|${head.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`];
  for (const m of metrics) {
    const cells = [
      `${m.label} ${m.better === "higher" ? "↑" : "↓"}`,
      ...columns.map((c) => fmt(median(m.values[c.key] ?? []))),
      ...ratios.map(([a, b]) => ratioCell(m.values[a] ?? [], m.values[b] ?? [])),
    ];
    lines.push(`| ${cells.join(" | ")} |`);
  }
  return lines.join("\n") + "\n";
}
