/**
 * Times as the tenant reads them: "YYYY-MM-DD HH:MM:SS" in their zone, the same shape in
 * both languages so columns line up; the UTC instant goes in the title (hover).
 */
function parts(ms: number, timeZone: string) {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat("en-GB", { timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" })
      .formatToParts(ms)
      .map((x) => [x.type, x.value]),
  );
  return p as Record<"year" | "month" | "day" | "hour" | "minute" | "second", string>;
}

export function localDateTime(iso: string, timeZone: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const p = parts(ms, timeZone);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

export function localHourMinute(ms: number, timeZone: string): string {
  const p = parts(ms, timeZone);
  return `${p.hour}:${p.minute}`;
}

export const utcTitle = (iso: string) => `${iso.replace("T", " ").slice(0, 19)} UTC`;

/** A time cell: local text, UTC on hover, the instant machine-readable. */
export function Time(p: { at: string; timeZone: string }) {
  return (
    <time datetime={p.at} title={utcTitle(p.at)}>
      {localDateTime(p.at, p.timeZone)}
    </time>
  );
}

/** The stored mask ("*****42") at a fixed width: the last 2 digits and the length, so no id can widen the table. */
export function shortMask(masked: string): string {
  const last = masked.slice(-2).replace(/\*/g, "•");
  return `••••${last.length === 2 && !last.includes("•") ? last : ""} (${masked.length})`;
}
