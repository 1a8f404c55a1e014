import type { ConnectorUsage } from "../../../shared/quota.js";
import type { UiContext } from "../context.js";

/** Read-only: what the connector's quota guard has seen (the same figures as GET …/usage). */
export function QuotaUsageView(p: { c: UiContext; usage: ConnectorUsage }) {
  const t = p.c.get("t").connector;
  const u = p.usage;
  const q = u.quota;
  const rows: [string, string][] = [
    [t.quotaLimit, `${q.requests} / ${q.perSeconds} s${q.daily ? `, ${q.daily} / day` : ""}${q.concurrency ? `, ${q.concurrency} at once` : ""} (${q.source === "default" ? t.quotaDefault : t.quotaOwn})`],
    [t.quotaWindow, `${u.inWindow} / ${u.limit}`],
    ...(u.dailyLimit !== null ? [[t.quotaDaily, `${u.dailyUsed} / ${u.dailyLimit}`] as [string, string]] : []),
    [t.quotaShed, String(u.shedLastHour)],
    [t.quotaPaused, u.pausedUntil ?? t.quotaNone],
    [t.quotaLast429, u.last429 ? `${u.last429.at} (Retry-After ${u.last429.retryAfterSeconds} s)` : t.quotaNone],
  ];
  return (
    <section class="card" aria-labelledby="quota-title" id="quota-usage">
      <h2 id="quota-title" style="margin-top:0">
        {t.quotaTitle}
      </h2>
      <table>
        <tbody>
          {rows.map(([k, v]) => (
            <tr>
              <th scope="row">{k}</th>
              <td>{v}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
