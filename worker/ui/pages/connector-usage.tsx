import type { ConnectorUsage } from "../../../shared/quota.js";
import type { Child } from "hono/jsx";
import type { UiContext } from "../context.js";
import { Time } from "../time.js";

/** Read-only: what the connector's quota guard has seen (the same figures as GET …/usage). */
export function QuotaUsageView(p: { c: UiContext; usage: ConnectorUsage; timeZone: string }) {
  const t = p.c.get("t").connector;
  const u = p.usage;
  const q = u.quota;
  const rows: [string, Child][] = [
    [t.quotaLimit, `${q.requests} / ${q.perSeconds} s${q.daily ? `, ${t.quotaPerDay(String(q.daily))}` : ""}${q.concurrency ? `, ${t.quotaAtOnce(String(q.concurrency))}` : ""} (${q.source === "default" ? t.quotaDefault : t.quotaOwn})`],
    [t.quotaWindow, `${u.inWindow} / ${u.limit}`],
    ...(u.dailyLimit !== null ? [[t.quotaDaily, `${u.dailyUsed} / ${u.dailyLimit}`] as [string, Child]] : []),
    [t.quotaShed, String(u.shedLastHour)],
    // In the tenant's zone like every other time on these pages, UTC on hover.
    [t.quotaPaused, u.pausedUntil ? <Time at={u.pausedUntil} timeZone={p.timeZone} /> : t.quotaNone],
    [
      t.quotaLast429,
      u.last429 ? (
        <>
          <Time at={u.last429.at} timeZone={p.timeZone} />
          {` (Retry-After ${u.last429.retryAfterSeconds} s)`}
        </>
      ) : (
        t.quotaNone
      ),
    ],
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
