import { BoundedCache } from "../../shared/bounded-cache.js";
import { effectiveQuota, type ConnectorUsage, type QuotaConfig, type QuotaUsage } from "../../shared/quota.js";
import type { CircuitEnv } from "../circuit/client.js";
import { CrmError } from "../connectors/errors.js";
import { pauseFromHeaders } from "./headers.js";
import { JITTER_MS, leaseMs, maxGrant } from "./policy.js";

/**
 * The isolate's side of the quota guard: one admission point per tenant + connector (its
 * Durable Object, shared with the circuit breaker) hands out the CRM's budget in leases.
 *
 * Fast path: an isolate asks for a batch of tokens sized to its own recent demand over one
 * lease (a fifth of the quota window), and spends them locally until the batch or the lease
 * runs out. A connector well under its quota therefore costs one Durable Object call per lease
 * per isolate, never one per call; the object is called on a call's path only when the isolate
 * has no token left. Leases are short because every granted token counts against the window
 * until its lease ends plus the window (policy.ts), so a large idle lease would starve the
 * other isolates.
 *
 * The object slow to answer while the connector is well under a generous quota (its last lease
 * gave all that was asked): one call per isolate goes ahead after OPTIMISTIC_AFTER_MS rather than wait
 * out a cold start; the CRM's own 429, which pauses everyone, stays the backstop.
 *
 * No token: the call waits (asking the object again when it says a token will be free) while
 * its deadline still leaves time for the CRM call, else it is shed at once (crm_quota) and the
 * caller falls back to a stale entry. The waiting room is bounded per isolate, and no node may
 * hold more than its share of it, so one node's burst cannot starve another. Each waiting call
 * drives its own retries: in Workers a timer or I/O started for one request must not settle
 * another request's promise.
 */
export type Admission = { ok: true } | { ok: false };

/** A call waiting for a token: `tag` orders the line (see arriving), `ticket` breaks ties by arrival. */
type Waiter = { ticket: number; node: string; tag: number };

type Local = {
  /** The quota the pool's tokens were leased under (see quotaChanged), and the quota itself. */
  quota: string;
  current: QuotaConfig | null;
  tokens: number;
  until: number;
  pausedUntil: number;
  /** Calls waiting for a token, per node. */
  waiting: Map<string, number>;
  /** Waiting calls in arrival order, with their node: one far back in the line gives up without waiting. */
  line: Waiter[];
  /** The tag of the last waiter served: where a node that had nobody waiting starts (see tagFor). */
  round: number;
  ticket: number;
  refreshing: boolean;
  /** Lease requests in flight from this isolate, and when the oldest began. */
  asking: number;
  askingSince: number;
  /** Tokens those requests asked for: calls they cover wait for them rather than ask too. */
  pending: number;
  /** The last lease gave all that was asked, with no pause: the connector is well under quota. */
  roomy: boolean;
  /** A call let through while the object was slow to answer, its lease still out. */
  optimistic: boolean;
  /** Calls admitted in the current second and the one before: the demand a lease is sized to. */
  demand: { second: number; now: number; before: number };
  /**
   * Typical CRM call time and its mean deviation: a waiting call gives up when less than
   * callMs + 4 × callDevMs is left (TCP's retransmission timer, RFC 6298). The mean alone let a
   * call take a token with 25 ms left on a loaded machine where the call then took 190 ms: the
   * step was cut late (timers fire late there), the answer left after the deadline, and the
   * token was spent on a call that could not be used. No deviation is assumed before a call was
   * seen: a cold isolate reserves the 100 ms guess alone, not more of a tight deadline.
   */
  callMs: number;
  callDevMs: number;
  shed: number;
  shedFlushing: boolean;
  /**
   * The object's last refusal: no token before `noTokenBefore`, as told at `refusedAt`. A spent
   * daily budget (or a long window) refuses every call until midnight UTC; without this each
   * call asked the object again to hear the same, one round trip per call for hours, all of a
   * busy tenant's calls on one object. A call that cannot wait that long is shed here for a
   * second after a refusal; then one asks again (a raised quota is seen within the second).
   */
  noTokenBefore: number;
  refusedAt: number;
};

const local = new BoundedCache<string, Local>({ max: 5000 });
/** Calls waiting per isolate and connector; beyond, calls are shed without waiting. */
export const MAX_WAITING = 64;
/** …and while the connector is well under quota (see acquire). */
const MAX_WAITING_ROOMY = 1024;
/** How long a call well under quota waits for the object before going ahead (see acquire). */
const OPTIMISTIC_AFTER_MS = 20;
/**
 * …and only on a quota of at least this many calls per second, where one call per isolate
 * outside the budget cannot make the CRM refuse: a tight quota (HubSpot's 4/s) always waits.
 */
const OPTIMISTIC_MIN_RATE = 50;
/**
 * While another lease request is in flight, a refused call looks at the pool again this often.
 * Each look wakes a waiting request: at 5 ms, a few dozen waiters cost a starved isolate enough
 * CPU to delay the other requests' answers past their deadlines.
 */
const ASK_POLL_MS = 20;
/** A lease request older than this is presumed lost (its request cancelled): stop waiting on it. */
const ASK_STALE_MS = 1000;
/** A leased token is used at most this long before its lease ends (see askForLease). */
const EXPIRY_MARGIN_MS = Math.round(JITTER_MS / 2);
/** Never plan on a CRM call shorter than this when deciding whether waiting is still worth it. */
const MIN_CALL_MS = 25;

const nameOf = (tenant: string, connector: string) => `${tenant}\u0000${connector}`;

function stub(env: CircuitEnv, key: string) {
  return env.CIRCUIT!.get(env.CIRCUIT!.idFromName(key));
}

function entry(key: string): Local {
  let l = local.get(key);
  if (!l) {
    l = { quota: "", current: null, tokens: 0, until: 0, pausedUntil: 0, waiting: new Map(), line: [], round: 0, ticket: 0, refreshing: false, asking: 0, askingSince: 0, pending: 0, roomy: true, optimistic: false, demand: { second: 0, now: 0, before: 0 }, callMs: 100, callDevMs: 0, shed: 0, shedFlushing: false, noTokenBefore: 0, refusedAt: 0 };
    local.set(key, l);
  }
  return l;
}

function noteDemand(l: Local, now: number) {
  const second = Math.floor(now / 1000);
  if (second !== l.demand.second) l.demand = { second, now: 0, before: second === l.demand.second + 1 ? l.demand.now : 0 };
  l.demand.now++;
}

export interface QuotaCall {
  env: CircuitEnv;
  tenant: string;
  connector: string;
  node: string;
  quota: QuotaConfig;
  /** When the step must be over (epoch ms); the CRM call itself needs time before it. */
  stepDeadline: number;
  /** How long one CRM call may run (the connector's timeout): concurrency is held that long. */
  holdMs: number;
  defer: (p: Promise<unknown>) => void;
}

/**
 * A token from the pool, if it is this call's turn: the calls in line are served round robin by
 * node (aheadOf), so a call takes one only while the pool holds more than the calls ahead of it.
 * Without this the pool went to whichever call looked first: a node flooding at 10x the quota,
 * its new calls taking tokens on arrival and its many waiters polling, got them nearly all, and
 * a quiet node of the same tenant, asking a fraction of its share, was shed 4 times in 5.
 * `me`: the call in the line; none for a call not in it yet.
 */
function takeInTurn(l: Local, node: string, now: number, me?: Waiter): boolean {
  if (l.line.length > 0 && aheadOf(l, me ?? arriving(l, node)) >= l.tokens) return false;
  if (!take(l, now)) return false;
  if (me) l.round = Math.max(l.round, me.tag);
  return true;
}

function take(l: Local, now: number): boolean {
  if (l.tokens > 0 && now < l.until && now >= l.pausedUntil) {
    l.tokens--;
    return true;
  }
  return false;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * An admin who lowers a connector's quota (its CRM answers 429 below what was set) must see it
 * obeyed now: tokens leased under the old quota (up to a quarter of it, for up to 10 s) are
 * dropped rather than spent (the object already counts them against the new one), and the
 * calls already waiting, which carry the config they started with, ask under the new quota.
 */
function quotaChanged(l: Local, quota: QuotaConfig) {
  const signature = `${quota.requests}/${quota.perSeconds}/${quota.daily ?? ""}/${quota.concurrency ?? ""}`;
  if (l.quota === signature) return;
  l.quota = signature;
  l.current = quota;
  l.tokens = 0;
  l.noTokenBefore = 0;
}

/** A refusal heard less than a second ago says no token comes before the call must give up. */
const REFUSAL_KEPT_MS = 1000;

/** Before a CRM call: a token now, a token after a wait the deadline allows, or no. */
export async function acquire(q: QuotaCall): Promise<Admission> {
  if (!q.env.CIRCUIT) return { ok: true };
  const key = nameOf(q.tenant, q.connector);
  const l = entry(key);
  quotaChanged(l, q.quota);
  noteDemand(l, Date.now());
  if (takeInTurn(l, q.node, Date.now())) {
    refreshAhead(q, key, l);
    return { ok: true };
  }
  if (Date.now() - l.refusedAt < REFUSAL_KEPT_MS && l.noTokenBefore > q.stepDeadline) return shed(q, key, l);
  // The reserve never exceeds the connector's own timeout: the CRM call is cut there anyway.
  const giveUpAt = q.stepDeadline - Math.min(q.holdMs, Math.max(MIN_CALL_MS, l.callMs + 4 * l.callDevMs));
  // The calls already in line here come first: a window serves `requests` of them at once (a
  // burst within the quota need not be spread out), those beyond wait for later windows.
  const windowMs = q.quota.perSeconds * 1000;
  const lineWait = (ahead: number) => Math.floor(ahead / q.quota.requests) * windowMs;
  // The reserve decides whether *waiting* is worth it. Well under quota with nobody in line, an
  // empty pool only means this isolate's lease ran out between calls: one ask is a token, not a
  // wait, and shedding here instead would never ask again — the pool refills only through asks —
  // so a connector whose calls vary widely (a reserve near the deadline) would shed every call.
  let mayAsk = l.roomy && l.line.length === 0 && Date.now() >= l.pausedUntil;
  if (!mayAsk && Date.now() + lineWait(aheadOf(l, arriving(l, q.node))) > giveUpAt) return shed(q, key, l);
  let total = 0;
  for (const n of l.waiting.values()) total += n;
  // Well under quota the calls in line are only waiting for a lease on its way (a cold start's
  // burst), not for the CRM's budget: the room is then as large as a window's quota, and any
  // node may fill it. Short of budget, one node may hold at most a share that leaves room for
  // one more node, so that a node's burst arriving first cannot shut the others out.
  const room = l.roomy ? Math.max(MAX_WAITING, Math.min(q.quota.requests, MAX_WAITING_ROOMY)) : MAX_WAITING;
  const others = l.waiting.size - (l.waiting.has(q.node) ? 1 : 0);
  const share = Math.ceil(room / (others + (l.roomy ? 1 : 2)));
  if (total >= room || (l.waiting.get(q.node) ?? 0) >= share) return shed(q, key, l);
  l.waiting.set(q.node, (l.waiting.get(q.node) ?? 0) + 1);
  const ticket = ++l.ticket;
  const me: Waiter = { ...arriving(l, q.node), ticket };
  l.line.push(me);
  let refused = false;
  try {
    for (;;) {
      const now = Date.now();
      if (takeInTurn(l, q.node, now, me)) return { ok: true };
      const ahead = aheadOf(l, me);
      const limit = mayAsk ? q.stepDeadline : giveUpAt;
      if (now >= limit || l.pausedUntil > limit || now + lineWait(ahead) > limit) return shed(q, key, l);
      if (now < l.pausedUntil) {
        await sleep(l.pausedUntil - now);
        continue;
      }
      let waiting = 0;
      for (const n of l.waiting.values()) waiting += n;
      if ((refused || l.pending >= waiting) && l.asking > 0 && now - l.askingSince < ASK_STALE_MS) {
        // A lease on its way asked enough for every call waiting here, or this call was refused
        // while one is on its way: that answer may be the tokens this call needs, so look at
        // the pool again shortly rather than ask (or give up) now.
        await sleep(ASK_POLL_MS);
        continue;
      }
      refused = false;
      mayAsk = false;
      const asking = askForLease(q, key, l, now);
      let a: number | "open" | "slow";
      if (l.roomy && !l.optimistic && q.quota.requests / q.quota.perSeconds >= OPTIMISTIC_MIN_RATE) {
        // Well under quota and the object slow to answer (a cold start): one call per isolate
        // goes ahead without waiting; the lease, when it comes, serves the calls after it.
        a = await Promise.race([asking, sleep(OPTIMISTIC_AFTER_MS).then(() => "slow" as const)]);
        if (a === "slow") {
          l.optimistic = true;
          q.defer(asking.finally(() => (l.optimistic = false)));
          return { ok: true };
        }
      } else a = await asking;
      if (a === "open") return { ok: true };
      // Another call's lease may have filled the pool while this one was refused (concurrent
      // asks: one takes the room, the others are told to wait): the pool comes first.
      if (takeInTurn(l, q.node, Date.now(), me)) return { ok: true };
      if (a > 0) refused = true;
      if (a > 0 && l.asking > 0 && Date.now() - l.askingSince < ASK_STALE_MS) continue;
      if (a > 0 && Date.now() + a + lineWait(aheadOf(l, me)) > giveUpAt) return shed(q, key, l);
      // A little jitter so that the calls told the same time do not all ask at once.
      if (a > 0) await sleep(a + Math.floor(Math.random() * 10));
    }
  } finally {
    l.line = l.line.filter((w) => w.ticket !== ticket);
    const n = (l.waiting.get(q.node) ?? 1) - 1;
    if (n <= 0) l.waiting.delete(q.node);
    else l.waiting.set(q.node, n);
  }
}

/**
 * The admin's connector test: a token now, or a refusal saying when one may be free. It never
 * waits (nobody's call is on the line) and never goes ahead while the object is slow or the
 * connector is paused: a "test" clicked again and again must not spend the budget live calls
 * need. Only an unreachable object lets it through, as it does live calls.
 */
export async function acquireNow(q: Pick<QuotaCall, "env" | "tenant" | "connector" | "quota" | "holdMs">): Promise<{ ok: true } | { ok: false; retryInMs: number }> {
  if (!q.env.CIRCUIT) return { ok: true };
  const key = nameOf(q.tenant, q.connector);
  const l = entry(key);
  quotaChanged(l, q.quota);
  const now = Date.now();
  if (take(l, now)) return { ok: true };
  if (now < l.pausedUntil) return { ok: false, retryInMs: l.pausedUntil - now };
  try {
    // One token, spent at once: nothing is left in this isolate's pool to hold the budget.
    const a = await stub(q.env, key).lease({ quota: plain(q.quota), want: 1, holdMs: q.holdMs, shed: 0 });
    l.pausedUntil = Math.max(l.pausedUntil, a.pausedUntil);
    return a.granted > 0 ? { ok: true } : { ok: false, retryInMs: a.retryInMs };
  } catch {
    return { ok: true };
  }
}

/**
 * The line is served round robin between nodes (start-time fair queuing, one token a call): a
 * node's next waiter is tagged one round after its previous one, and a node with nobody
 * waiting starts at the round being served. So a node's k-th waiter comes after the k-th of
 * every other node, not after every call of a node whose burst came first, nor after the
 * endless waiters of a node that floods and always arrived earlier; equal tags go by arrival.
 */
function arriving(l: Local, node: string): Waiter {
  let tag = l.round;
  for (const w of l.line) if (w.node === node) tag = Math.max(tag, w.tag + 1);
  return { ticket: Infinity, node, tag };
}

/** How many calls in the line are served before `me` (a waiter, or one arriving). */
function aheadOf(l: Local, me: Waiter): number {
  let ahead = 0;
  for (const w of l.line) if (w.tag < me.tag || (w.tag === me.tag && w.ticket < me.ticket)) ahead++;
  return ahead;
}

/**
 * Renews a lease before it runs out, after the answer (waitUntil), so that a steady stream of
 * calls well under quota never waits for the object.
 */
function refreshAhead(q: QuotaCall, key: string, l: Local) {
  const now = Date.now();
  if (l.refreshing || (l.tokens > 2 && l.until - now > 50)) return;
  l.refreshing = true;
  q.defer(askForLease(q, key, l, now).finally(() => (l.refreshing = false)));
}

/** Asks the object for a lease: 0 = tokens are in the pool now, > 0 = ms until one may be, "open" = the object failed. */
async function askForLease(q: QuotaCall, key: string, l: Local, asked: number): Promise<number | "open"> {
  // Enough for those waiting and for this isolate's demand over a lease (at least a second's
  // worth), within a quarter of the quota so that the other isolates get their share. Demand
  // is sized to the lease's length, not the window's: a token unused when its lease ends still
  // counts for a whole window, and on a long window (Dynamics' 300 s) over-asking burns the
  // budget for minutes.
  const quota = l.current ?? q.quota;
  const perLease = Math.ceil(Math.max(l.demand.now, l.demand.before) * Math.max(1, leaseMs(quota) / 1000));
  let waiting = 0;
  for (const n of l.waiting.values()) waiting += n;
  const want = Math.max(1, Math.min(maxGrant(quota), Math.max(waiting, perLease)));
  const shedNow = l.shed;
  l.shed = 0;
  if (l.asking === 0) l.askingSince = Date.now();
  l.asking++;
  l.pending += want;
  try {
    const a = await stub(q.env, key).lease({ quota: plain(quota), want, holdMs: q.holdMs, shed: shedNow });
    l.pausedUntil = Math.max(l.pausedUntil, a.pausedUntil);
    l.roomy = a.granted >= want && a.pausedUntil <= Date.now();
    if (a.granted === 0) {
      l.refusedAt = Date.now();
      l.noTokenBefore = l.refusedAt + a.retryInMs;
      return a.retryInMs;
    }
    l.noTokenBefore = 0;
    // A lease is timed from when it was asked for, so this isolate never outlives the object's
    // view of it; tokens left from an earlier lease make the pool end when that lease ends.
    // Tokens expire here EXPIRY_MARGIN_MS before the object's lease ends: the object counts a
    // lease's tokens until its end plus the window plus JITTER_MS, so a call taken late on a
    // loaded isolate still reaches the CRM inside the window it was counted in.
    const until = asked + a.leaseMs - Math.min(EXPIRY_MARGIN_MS, a.leaseMs / 4);
    l.until = l.tokens > 0 && l.until > Date.now() ? Math.min(l.until, until) : until;
    l.tokens += a.granted;
    return 0;
  } catch {
    // The object unreachable: the guard fails open rather than failing every call.
    return "open";
  } finally {
    l.asking--;
    l.pending -= want;
  }
}

const plain = (q: QuotaConfig): QuotaConfig => ({ requests: q.requests, perSeconds: q.perSeconds, ...(q.daily !== undefined ? { daily: q.daily } : {}), ...(q.concurrency !== undefined ? { concurrency: q.concurrency } : {}) });

function shed(q: QuotaCall, key: string, l: Local): Admission {
  l.shed++;
  // Shed counts ride on the next lease; a connector that only sheds flushes them after a second.
  if (!l.shedFlushing) {
    l.shedFlushing = true;
    q.defer(
      sleep(1000).then(async () => {
        l.shedFlushing = false;
        const n = l.shed;
        l.shed = 0;
        if (n > 0) await stub(q.env, key).shed(n).catch(() => undefined);
      }),
    );
  }
  return { ok: false };
}

/** After a CRM call: its time, so that waiters know how much deadline a call needs. */
export function observeCall(tenant: string, connector: string, ms: number) {
  const l = local.get(nameOf(tenant, connector));
  if (!l) return;
  l.callDevMs = l.callDevMs * 0.75 + Math.abs(ms - l.callMs) * 0.25;
  l.callMs = l.callMs * 0.875 + ms * 0.125;
}

/** A 429 with no Retry-After pauses the connector this long. */
export const DEFAULT_429_PAUSE_MS = 5000;

/**
 * What one CRM call tells the guard about the quota. Rate-limit headers at zero pause the
 * connector as soon as the reply arrives; a throttled reply (crm_rate_limited) then pauses it for
 * the wait it stated, else the default, but only when that outlasts what its headers already
 * paused for: the object hears of one throttled reply once, not twice.
 */
export function throttleWatch(env: CircuitEnv, tenant: string, connector: string, defer: (p: Promise<unknown>) => void) {
  let pausedMs = -Infinity;
  // Whether the object was told this reply was a refusal (usage's last429), not only headers at zero.
  let refusalSent = false;
  return {
    observe: (status: number, headers: Headers) => {
      const ms = pauseFromHeaders(headers);
      if (ms === undefined) return;
      pausedMs = Math.max(pausedMs, ms);
      refusalSent = status === 429;
      pause(env, tenant, connector, ms, defer, refusalSent);
    },
    failed: (e: unknown) => {
      if (!(e instanceof CrmError) || e.code !== "crm_rate_limited") return;
      const ms = e.retryAfterSeconds !== undefined ? e.retryAfterSeconds * 1000 : DEFAULT_429_PAUSE_MS;
      // retryAfterSeconds is the headers' wait rounded up to a second. A throttling reply that is
      // not a 429 (Salesforce's 403) is known as one only now: the object hears it is a refusal.
      if (ms >= pausedMs + 1000 || !refusalSent) pause(env, tenant, connector, ms, defer, true);
    },
  };
}

/** A 429 (`refused`) or rate-limit headers at zero: pause here at once and everywhere through the object. */
export function pause(env: CircuitEnv, tenant: string, connector: string, ms: number, defer: (p: Promise<unknown>) => void, refused: boolean) {
  if (!env.CIRCUIT) return;
  const key = nameOf(tenant, connector);
  const l = entry(key);
  l.roomy = false;
  const until = Date.now() + Math.min(600_000, Math.max(0, ms));
  l.pausedUntil = Math.max(l.pausedUntil, until);
  l.tokens = 0;
  defer(stub(env, key).throttled({ until, refused }).catch(() => undefined));
}

export async function quotaUsage(env: CircuitEnv, tenant: string, connector: string, quota: QuotaConfig): Promise<QuotaUsage | null> {
  if (!env.CIRCUIT) return null;
  return stub(env, nameOf(tenant, connector)).usage(plain(quota));
}

/** The usage resource's body; the connector's admin page shows the same. */
export async function connectorUsageOf(env: CircuitEnv, tenant: string, id: string, config: { kind: string; quota?: QuotaConfig | undefined }): Promise<ConnectorUsage> {
  const { source, ...quota } = effectiveQuota(config);
  const seen = await quotaUsage(env, tenant, id, quota);
  return {
    connector: id,
    quota: { ...quota, source },
    ...(seen ?? { windowSeconds: quota.perSeconds, limit: quota.requests, inWindow: 0, dailyUsed: 0, dailyLimit: quota.daily ?? null, shedLastHour: 0, pausedUntil: null, last429: null }),
  };
}

/** Tests: this isolate forgets its leases and pauses, as a fresh isolate elsewhere would start. */
export function forgetLocalQuota() {
  local.clear();
}
