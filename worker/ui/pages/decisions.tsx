import { listDecisions } from "../../services/cache.js";
import { listNodes } from "../../services/nodes.js";
import { tenantTimeZone } from "../../services/tenants.js";
import { tenantHome } from "../../tenant/home.js";
import { bucketize, countMinutes, OUTCOMES, OutcomeChart, percentile, type Bucket } from "../chart.js";
import { tenantOf, type UiApp } from "../context.js";
import { SelectField } from "../fields.js";
import { reasonText } from "../issues.js";
import { Layout, Table } from "../layout.js";
import { localHourMinute, shortMask, Time } from "../time.js";

const HOUR = 3600_000;
const TABLE_ROWS = 100;

function summary(buckets: Bucket[], entries: ReadonlyArray<{ at: string; ms: number }>, since: number, text: (n: number, p50: number, p99: number) => string) {
  const n = buckets.reduce((s, b) => s + OUTCOMES.reduce((x, o) => x + b.counts[o], 0), 0);
  const ms = entries
    .filter((e) => Date.parse(e.at) > since)
    .map((e) => e.ms)
    .sort((a, b) => a - b);
  return text(n, percentile(ms, 50) ?? 0, percentile(ms, 99) ?? 0);
}

function Reason(p: { code: string; text: string | null }) {
  return (
    <>
      <code>{p.code}</code>
      {p.text ? <span class="hint reason">{p.text}</span> : null}
    </>
  );
}

export function decisionPages(ui: UiApp) {
  ui.get("/decisions", async (c) => {
    const t = c.get("t");
    const d = t.decisions;
    const tenant = tenantOf(c);
    const node = c.req.query("node") || undefined;
    const outcomeQ = c.req.query("outcome");
    const outcome = outcomeQ && (OUTCOMES as readonly string[]).includes(outcomeQ) ? outcomeQ : undefined;
    // The log keeps at most 1000 rows per tenant: one read serves the table and the latency lines.
    // Its per-minute counts cover every call, so the bars use them unless a node is chosen (they
    // are not kept per node).
    const now = Date.now();
    const [entries, nodes, minutes, timeZone] = await Promise.all([
      listDecisions(c.get("svc"), tenant, { limit: 1000, node, outcome }),
      listNodes(c.get("svc"), tenant),
      node ? null : tenantHome(c.env, tenant).minutes(now - 24 * HOUR),
      tenantTimeZone(c.get("svc"), tenant),
    ]);
    const lang = c.get("lang");
    const counted = (b: Bucket[], windowMs: number) => (minutes ? countMinutes(b, outcome ? minutes.filter((m) => m.outcome === outcome) : minutes, now, windowMs) : b);
    const hour = counted(bucketize(entries, now, HOUR, 12), HOUR);
    const day = counted(bucketize(entries, now, 24 * HOUR, 24), 24 * HOUR);
    const hhmm = (ms: number) => localHourMinute(ms, timeZone);
    const outcomeLabel = (o: string) => d.outcomes[o] ?? o;
    return c.html(
      <Layout t={t} lang={c.get("lang")} title={d.title} current="decisions" path={`/ui/decisions${new URL(c.req.url).search}`} tenant={tenant} csrf={c.get("session").csrf}>
        <form method="get" action="/ui/decisions" class="card inline">
          <SelectField
            name="node"
            label={d.node}
            value={node ?? ""}
            errors={{}}
            options={[{ value: "", label: d.any }, ...nodes.map((n) => ({ value: n.id, label: n.id }))]}
          />
          <SelectField name="outcome" label={d.outcome} value={outcome ?? ""} errors={{}} options={[{ value: "", label: d.any }, ...OUTCOMES.map((o) => ({ value: o, label: outcomeLabel(o) }))]} />
          <button type="submit">{d.filter}</button>
        </form>
        <div class="charts">
          <OutcomeChart id="chart-hour" title={d.chartHour} summary={summary(hour, entries, now - HOUR, d.chartSummary)} empty={d.chartEmpty} buckets={hour} label={hhmm} outcomeLabel={outcomeLabel} />
          <OutcomeChart id="chart-day" title={d.chartDay} summary={summary(day, entries, now - 24 * HOUR, d.chartSummary)} empty={d.chartEmpty} buckets={day} label={hhmm} outcomeLabel={outcomeLabel} />
        </div>
        <p class="hint">{d.capped(timeZone)}</p>
        {entries.length ? (
          <Table head={[d.time, d.node, d.maskedId, d.outcome, d.destination, d.reason, d.cache, d.ms]}>
            {entries.slice(0, TABLE_ROWS).map((e) => (
              <tr>
                <td class="nowrap">
                  <Time at={e.at} timeZone={timeZone} />
                </td>
                <td class="clip">{e.node}</td>
                <td class="mono nowrap" title={d.maskedTitle(e.maskedId.length)}>
                  {shortMask(e.maskedId)}
                </td>
                <td>{outcomeLabel(e.outcome)}</td>
                <td class="mono">{e.destination}</td>
                <td>{e.reason ? <Reason code={e.reason} text={reasonText(lang, e.reason)} /> : "—"}</td>
                <td>{e.cache}</td>
                <td>{e.ms}</td>
              </tr>
            ))}
          </Table>
        ) : (
          <p>{d.empty}</p>
        )}
      </Layout>,
    );
  });
}
