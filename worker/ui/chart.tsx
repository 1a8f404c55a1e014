export const OUTCOMES = ["success", "route", "failure", "invalid"] as const;
export type Outcome = (typeof OUTCOMES)[number];
const COLORS: Record<Outcome, string> = { success: "#2e8b57", route: "#1f5fbf", failure: "#c0392b", invalid: "#b8860b" };
const P50 = "#333";
const P99 = "#e67e22";

export type Bucket = { start: number; counts: Record<Outcome, number>; p50: number | null; p99: number | null };

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (!sorted.length) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** Decisions of the last `windowMs` before `now`, in `count` equal time buckets, oldest first. */
export function bucketize(entries: ReadonlyArray<{ at: string; outcome: string; ms: number }>, now: number, windowMs: number, count: number): Bucket[] {
  const size = windowMs / count;
  const start = now - windowMs;
  const ms: number[][] = Array.from({ length: count }, () => []);
  const buckets: Bucket[] = Array.from({ length: count }, (_, i) => ({ start: start + i * size, counts: { success: 0, route: 0, failure: 0, invalid: 0 }, p50: null, p99: null }));
  for (const e of entries) {
    const at = Date.parse(e.at);
    if (!(at > start && at <= now)) continue;
    const i = Math.min(count - 1, Math.floor((at - start) / size));
    const b = buckets[i]!;
    if ((OUTCOMES as readonly string[]).includes(e.outcome)) b.counts[e.outcome as Outcome]++;
    ms[i]!.push(e.ms);
  }
  buckets.forEach((b, i) => {
    const sorted = ms[i]!.sort((x, y) => x - y);
    b.p50 = percentile(sorted, 50);
    b.p99 = percentile(sorted, 99);
  });
  return buckets;
}

/**
 * Replaces the buckets' counts with per-minute counts (every call, not only the newest rows the
 * log keeps). A minute is counted in the bucket holding its middle; latency lines stay as they are.
 */
export function countMinutes(buckets: Bucket[], minutes: ReadonlyArray<{ minute: number; outcome: string; n: number }>, now: number, windowMs: number): Bucket[] {
  const size = windowMs / buckets.length;
  const start = now - windowMs;
  const out = buckets.map((b) => ({ ...b, counts: { success: 0, route: 0, failure: 0, invalid: 0 } }));
  for (const m of minutes) {
    const at = m.minute * 60_000 + 30_000;
    if (!(at > start && at <= now + 30_000) || !(OUTCOMES as readonly string[]).includes(m.outcome)) continue;
    out[Math.min(buckets.length - 1, Math.floor((at - start) / size))]!.counts[m.outcome as Outcome] += m.n;
  }
  return out;
}

const W = 480;
const H = 170;
const PAD = { l: 34, r: 44, t: 10, b: 22 };

/**
 * Stacked outcome bars (left axis, count) with p50/p99 latency lines (right axis, ms),
 * drawn on the server: no script, readable by its title and the summary beside it.
 */
export function OutcomeChart(p: {
  id: string;
  title: string;
  summary: string;
  /** Said instead of the chart when no call fell in the window (no axis scaled to nothing). */
  empty: string;
  buckets: Bucket[];
  label: (start: number) => string;
  outcomeLabel: (o: Outcome) => string;
}) {
  const n = p.buckets.length;
  const total = p.buckets.reduce((s, b) => s + OUTCOMES.reduce((x, o) => x + b.counts[o], 0), 0);
  if (!total) {
    return (
      <figure style="margin:0" id={p.id}>
        <div class="chart-empty" role="img" aria-label={`${p.title}: ${p.empty}`}>
          {p.empty}
        </div>
        <figcaption>
          <strong>{p.title}</strong>: {p.empty}
        </figcaption>
      </figure>
    );
  }
  const plotW = W - PAD.l - PAD.r;
  const plotH = H - PAD.t - PAD.b;
  const maxCount = Math.max(1, ...p.buckets.map((b) => OUTCOMES.reduce((s, o) => s + b.counts[o], 0)));
  const maxMs = Math.max(1, ...p.buckets.map((b) => b.p99 ?? 0));
  const bw = plotW / n;
  const y = (v: number, max: number) => PAD.t + plotH - (v / max) * plotH;
  const points = (pick: (b: Bucket) => number | null) =>
    p.buckets
      .map((b, i) => [PAD.l + i * bw + bw / 2, pick(b)] as const)
      .filter((pt): pt is readonly [number, number] => pt[1] !== null)
      .map(([x, v]) => [x.toFixed(1), y(v, maxMs).toFixed(1)] as const);
  const p50 = points((b) => b.p50);
  const p99 = points((b) => b.p99);
  const every = Math.ceil(n / 6);
  return (
    <figure style="margin:0" id={p.id}>
      <svg viewBox={`0 0 ${W} ${H}`} width="100%" role="img" aria-labelledby={`${p.id}-t ${p.id}-d`} style="max-width:36rem;background:#fff;border:1px solid #d5d9e0;border-radius:6px">
        <title id={`${p.id}-t`}>{p.title}</title>
        <desc id={`${p.id}-d`}>{p.summary}</desc>
        <line x1={PAD.l} y1={PAD.t + plotH} x2={W - PAD.r} y2={PAD.t + plotH} stroke="#999" />
        <text x={PAD.l - 4} y={PAD.t + 8} font-size="10" text-anchor="end" fill="#555">
          {maxCount}
        </text>
        <text x={PAD.l - 4} y={PAD.t + plotH} font-size="10" text-anchor="end" fill="#555">
          0
        </text>
        <text x={W - PAD.r + 4} y={PAD.t + 8} font-size="10" fill={P99}>
          {`${maxMs} ms`}
        </text>
        {p.buckets.map((b, i) => {
          let acc = 0;
          return (
            <g>
              {OUTCOMES.map((o) => {
                const v = b.counts[o];
                if (!v) return null;
                const top = y(acc + v, maxCount);
                const height = y(acc, maxCount) - top;
                acc += v;
                return <rect x={(PAD.l + i * bw + 1).toFixed(1)} y={top.toFixed(1)} width={Math.max(1, bw - 2).toFixed(1)} height={height.toFixed(1)} fill={COLORS[o]} />;
              })}
              {i % every === 0 ? (
                <text x={(PAD.l + i * bw).toFixed(1)} y={H - 6} font-size="10" fill="#555">
                  {p.label(b.start)}
                </text>
              ) : null}
            </g>
          );
        })}
        <polyline points={p50.map((pt) => pt.join(",")).join(" ")} fill="none" stroke={P50} stroke-width="1.5" stroke-dasharray="4 3" />
        <polyline points={p99.map((pt) => pt.join(",")).join(" ")} fill="none" stroke={P99} stroke-width="2" />
        {/* Dots, so a bucket with no neighbour still shows its latency. */}
        {p50.map(([x, yy]) => (
          <circle cx={x} cy={yy} r="2.5" fill={P50} />
        ))}
        {p99.map(([x, yy]) => (
          <circle cx={x} cy={yy} r="3" fill="none" stroke={P99} stroke-width="1.5" />
        ))}
      </svg>
      <figcaption>
        <strong>{p.title}</strong>: {p.summary}
        <div class="legend">
          {OUTCOMES.map((o) => (
            <span>
              <span class="sw" style={`background:${COLORS[o]}`}></span>
              {p.outcomeLabel(o)}
            </span>
          ))}
          <span>
            <span class="sw" style={`background:${P50}`}></span>p50
          </span>
          <span>
            <span class="sw" style={`background:${P99}`}></span>p99
          </span>
        </div>
      </figcaption>
    </figure>
  );
}
