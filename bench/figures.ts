/** One benchmark figure, printed as one JSON line (SPEC 7). */
export type Figure = {
  name: string;
  value: number;
  unit: string;
  /** The figure this one is compared with, measured in the same run. */
  baseline?: string;
  ratio?: number;
};

export type BenchOptions = { quick: boolean };

/** Percentile of a sample (nearest rank). */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
