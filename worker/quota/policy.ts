import type { QuotaConfig, QuotaUsage } from "../../shared/quota.js";

/**
 * The admission budget of one tenant + connector, held by its Durable Object. Pure.
 *
 * Isolates lease tokens in batches (see client.ts). A lease's tokens may be spent at any time
 * until the lease ends, so a grant keeps counting against the window until `until + window`:
 * then any window of `perSeconds` at the CRM holds only calls of grants that were all alive
 * when the last of them was granted, and that grant was checked against the limit. The price
 * is that a token blocks the budget for `window + lease`; leases are kept short (a fifth of
 * the window) so the loss stays small.
 */
export type Grant = { at: number; until: number; hold: number; n: number };

export type QuotaState = {
  grants: Grant[];
  day: string;
  dayUsed: number;
  pausedUntil: number;
  last429: { at: number; retryAfterSeconds: number } | null;
  /** Calls shed, per minute (epoch minute → count), the last hour only. */
  shed: Map<number, number>;
};

export const initialQuota = (): QuotaState => ({ grants: [], day: "", dayUsed: 0, pausedUntil: 0, last429: null, shed: new Map() });

/** The state as the object stores it (breaker.ts): plain data, the shed counts as pairs. */
export type StoredQuota = Omit<QuotaState, "shed"> & { shed: [number, number][] };

export const toStored = (s: QuotaState): StoredQuota => ({ ...s, shed: [...s.shed] });

export const fromStored = (s: StoredQuota): QuotaState => ({ ...s, shed: new Map(s.shed) });

/** Calls reach the CRM a little after we decide (a loaded isolate, the network): counted against the window. */
export const JITTER_MS = 200;

export const leaseMs = (q: QuotaConfig) => Math.min(2000, Math.max(100, Math.round((q.perSeconds * 1000) / 5)));

/**
 * The most one lease may hold: a quarter of the window's requests and of the concurrency, so
 * that other isolates (and this one after a 429 drops its tokens) still find room. Leased
 * tokens hold concurrency until their lease ends, spent or not.
 */
export const maxGrant = (q: QuotaConfig) => Math.max(1, Math.ceil(Math.min(q.requests, q.concurrency ?? q.requests) / 4));

export type LeaseAnswer = { granted: number; leaseMs: number; retryInMs: number; pausedUntil: number };

/**
 * The most grants the object keeps. A grant lives for its lease plus the window, so on a long
 * window with many isolates (an hour's quota, 100 isolates leasing every 10 s) the list grew to
 * tens of thousands, every lease filtered and stored all of it (the object's CPU, a multi-MB
 * storage write per lease, past the storage's value limit). Past this, neighbours are merged.
 */
export const MAX_GRANTS = 256;

/**
 * Merges grants, by when they end, into a quarter of MAX_GRANTS. A merged grant ends with the
 * latest of its members and holds the longest hold, so it blocks the budget no less than they
 * did: the window's limit still holds; the price is that a member's tokens count until its
 * neighbours' lease ends, a 64th of window + lease at most when grants are spread evenly.
 */
function coalesce(grants: Grant[]): Grant[] {
  const sorted = [...grants].sort((a, b) => a.until - b.until);
  const size = Math.ceil(sorted.length / (MAX_GRANTS / 4));
  const out: Grant[] = [];
  for (let i = 0; i < sorted.length; i += size) {
    const chunk = sorted.slice(i, i + size);
    out.push({
      at: Math.max(...chunk.map((g) => g.at)),
      until: Math.max(...chunk.map((g) => g.until)),
      hold: Math.max(...chunk.map((g) => g.hold)),
      n: chunk.reduce((sum, g) => sum + g.n, 0),
    });
  }
  return out;
}

const utcDay = (now: number) => new Date(now).toISOString().slice(0, 10);

/** Up to `want` tokens now; none → how long until one could be granted. `holdMs`: how long a call may run. */
export function lease(s: QuotaState, q: QuotaConfig, want: number, holdMs: number, now: number): LeaseAnswer {
  const windowMs = q.perSeconds * 1000 + JITTER_MS;
  s.grants = s.grants.filter((g) => g.until + windowMs > now || g.until + g.hold > now);
  if (s.day !== utcDay(now)) {
    s.day = utcDay(now);
    s.dayUsed = 0;
  }
  const length = leaseMs(q);
  const none = (retryInMs: number): LeaseAnswer => ({ granted: 0, leaseMs: length, retryInMs: Math.max(1, Math.ceil(retryInMs)), pausedUntil: s.pausedUntil });
  if (now < s.pausedUntil) return none(s.pausedUntil - now);
  if (q.daily !== undefined && s.dayUsed >= q.daily) return none(Date.parse(`${s.day}T00:00:00Z`) + 86_400_000 - now);

  const inWindow = s.grants.filter((g) => g.until + windowMs > now);
  let room = q.requests - inWindow.reduce((sum, g) => sum + g.n, 0);
  let nextFree = room > 0 ? 0 : Math.min(...inWindow.map((g) => g.until + windowMs)) - now;
  if (q.concurrency !== undefined) {
    const running = s.grants.filter((g) => g.until + g.hold > now);
    const free = q.concurrency - running.reduce((sum, g) => sum + g.n, 0);
    if (free <= 0) nextFree = Math.max(nextFree, Math.min(...running.map((g) => g.until + g.hold)) - now);
    room = Math.min(room, free);
  }
  if (q.daily !== undefined) room = Math.min(room, q.daily - s.dayUsed);
  const n = Math.min(Math.max(1, Math.min(want, maxGrant(q))), room);
  if (n <= 0) return none(nextFree);
  // Far under quota a longer lease costs nothing (it only holds its tokens longer) and spares
  // the isolates their trips here: up to a whole window while a quarter of the limit is in use.
  const used = q.requests - room + n;
  const granted = used * 4 <= q.requests ? Math.max(length, Math.min(q.perSeconds * 1000, 10_000)) : length;
  s.grants.push({ at: now, until: now + granted, hold: holdMs, n });
  if (s.grants.length > MAX_GRANTS) s.grants = coalesce(s.grants);
  s.dayUsed += n;
  return { granted: n, leaseMs: granted, retryInMs: 0, pausedUntil: s.pausedUntil };
}

/**
 * A CRM said "too many" (`refused`: it turned a call away) or that nothing is left (a reply's
 * rate-limit headers at zero): nobody calls it until `until`. Only a refusal is a "last 429":
 * the headers at zero come on ordinary answers at the end of every busy window.
 */
export function throttled(s: QuotaState, until: number, now: number, refused: boolean): void {
  s.pausedUntil = Math.max(s.pausedUntil, until);
  if (refused) s.last429 = { at: now, retryAfterSeconds: Math.max(0, Math.round((until - now) / 1000)) };
}

export function recordShed(s: QuotaState, n: number, now: number): void {
  const minute = Math.floor(now / 60_000);
  s.shed.set(minute, (s.shed.get(minute) ?? 0) + n);
  for (const m of s.shed.keys()) if (m <= minute - 60) s.shed.delete(m);
}


export function usage(s: QuotaState, q: QuotaConfig, now: number): QuotaUsage {
  const windowMs = q.perSeconds * 1000;
  const minute = Math.floor(now / 60_000);
  let shed = 0;
  for (const [m, n] of s.shed) if (m > minute - 60) shed += n;
  return {
    windowSeconds: q.perSeconds,
    limit: q.requests,
    inWindow: s.grants.filter((g) => g.at + windowMs > now).reduce((sum, g) => sum + g.n, 0),
    dailyUsed: s.day === utcDay(now) ? s.dayUsed : 0,
    dailyLimit: q.daily ?? null,
    shedLastHour: shed,
    pausedUntil: s.pausedUntil > now ? new Date(s.pausedUntil).toISOString() : null,
    last429: s.last429 ? { at: new Date(s.last429.at).toISOString(), retryAfterSeconds: s.last429.retryAfterSeconds } : null,
  };
}
