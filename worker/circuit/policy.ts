/**
 * When a tenant's CRM keeps failing, stop calling it for a while: callers get `circuit_open`
 * (or a stale answer) at once instead of waiting out a timeout on every call, and the CRM gets
 * room to recover. Pure: the Durable Object holds one of these per tenant + connector.
 */
export const POLICY = {
  /** Counts are kept per window; a new window starts from zero. */
  windowMs: 10_000,
  /** Opens when a window has at least this many failures… */
  minFailures: 5,
  /** …and they are at least this share of the calls reported in it. */
  failureRatio: 0.5,
  /** How long it stays open before one probe call is let through. */
  coolDownMs: 30_000,
  /** A probe that never reports back frees the slot after this long. */
  probeTimeoutMs: 15_000,
};

export type CircuitState = {
  windowStart: number;
  ok: number;
  failed: number;
  /** Open until this time (0 = closed). */
  openUntil: number;
  /** A probe is out until this time. */
  probeUntil: number;
};

export const closed = (now: number): CircuitState => ({ windowStart: now, ok: 0, failed: 0, openUntil: 0, probeUntil: 0 });

export type Verdict = { allowed: boolean; probe: boolean; openUntil: number };

/** May a call go to the CRM now? After the cool-down exactly one probe is allowed. */
export function admit(s: CircuitState, now: number): [CircuitState, Verdict] {
  if (s.openUntil === 0) return [s, { allowed: true, probe: false, openUntil: 0 }];
  if (now < s.openUntil || now < s.probeUntil) return [s, { allowed: false, probe: false, openUntil: Math.max(s.openUntil, s.probeUntil) }];
  return [{ ...s, probeUntil: now + POLICY.probeTimeoutMs }, { allowed: true, probe: true, openUntil: s.openUntil }];
}

/** Calls reported by isolates (successes batched, failures at once); a probe's result closes or reopens. */
export function record(s: CircuitState, r: { ok: number; failed: number; probe?: boolean }, now: number): CircuitState {
  if (r.probe) return r.failed > 0 ? { ...closed(now), openUntil: now + POLICY.coolDownMs } : closed(now);
  let next = now - s.windowStart >= POLICY.windowMs ? { ...s, windowStart: now, ok: 0, failed: 0 } : { ...s };
  next = { ...next, ok: next.ok + r.ok, failed: next.failed + r.failed };
  if (next.openUntil === 0 && next.failed >= POLICY.minFailures && next.failed / (next.ok + next.failed) >= POLICY.failureRatio) {
    next = { ...next, openUntil: now + POLICY.coolDownMs, probeUntil: 0 };
  }
  return next;
}
