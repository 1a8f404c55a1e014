import { BoundedCache } from "../../shared/bounded-cache.js";
import type { CircuitBreaker } from "./breaker.js";
import { POLICY } from "./policy.js";

/**
 * The isolate's view of the shared circuits. A healthy CRM costs no Durable Object call at all:
 * only failures are reported at once (the answer tells whether the circuit opened), successes are
 * reported in batches and only while failures were seen recently, so the ratio stays honest.
 */
type Local = { openUntil: number; lastFailure: number; pendingOk: number; flushing: boolean };
const local = new BoundedCache<string, Local>({ max: 5000 });

const nameOf = (tenant: string, connector: string) => `${tenant}\u0000${connector}`;

export interface CircuitEnv {
  CIRCUIT?: DurableObjectNamespace<CircuitBreaker>;
}

function stub(env: CircuitEnv, key: string) {
  return env.CIRCUIT!.get(env.CIRCUIT!.idFromName(key));
}

function entry(key: string): Local {
  let l = local.get(key);
  if (!l) {
    l = { openUntil: 0, lastFailure: 0, pendingOk: 0, flushing: false };
    local.set(key, l);
  }
  return l;
}

export type Gate = { allowed: true; probe: boolean } | { allowed: false };

/** Before a CRM call. */
export async function gate(env: CircuitEnv, tenant: string, connector: string): Promise<Gate> {
  if (!env.CIRCUIT) return { allowed: true, probe: false };
  const key = nameOf(tenant, connector);
  const l = entry(key);
  const now = Date.now();
  if (l.openUntil === 0) return { allowed: true, probe: false };
  if (now < l.openUntil) return { allowed: false };
  // Past the cool-down this isolate knows of: the shared object decides who probes.
  try {
    const v = await stub(env, key).admit();
    l.openUntil = v.allowed ? (v.probe ? l.openUntil : 0) : v.openUntil;
    return v.allowed ? { allowed: true, probe: v.probe } : { allowed: false };
  } catch {
    return { allowed: true, probe: false };
  }
}

/** After a CRM call; `defer` keeps the report alive after the answer (waitUntil). */
export function report(env: CircuitEnv, tenant: string, connector: string, ok: boolean, probe: boolean, defer: (p: Promise<unknown>) => void): void {
  if (!env.CIRCUIT) return;
  const key = nameOf(tenant, connector);
  const l = entry(key);
  const now = Date.now();
  if (ok && !probe) {
    if (now - l.lastFailure > 3 * POLICY.windowMs) return;
    l.pendingOk++;
    if (l.flushing) return;
    l.flushing = true;
    defer(
      new Promise((r) => setTimeout(r, 1000)).then(async () => {
        const n = l.pendingOk;
        l.pendingOk = 0;
        l.flushing = false;
        await stub(env, key).record({ ok: n, failed: 0 }).catch(() => undefined);
      }),
    );
    return;
  }
  if (!ok) l.lastFailure = now;
  const batchedOk = l.pendingOk;
  l.pendingOk = 0;
  defer(
    stub(env, key)
      .record({ ok: (ok ? 1 : 0) + batchedOk, failed: ok ? 0 : 1, probe })
      .then((s) => {
        l.openUntil = s.openUntil;
      })
      .catch(() => undefined),
  );
}

/**
 * Reasons that say nothing about the CRM's health: our own refusal, our own budget, and
 * throttling (a CRM's 429 or the quota guard shedding) — a healthy CRM at its quota is not a
 * failing one, and opening the circuit on it would send every call to the failure destination.
 * phone_lookup_unsupported: a connector configured without number lookups is no sign of a sick CRM.
 */
export const NOT_CRM_FAULTS = new Set(["url_not_allowed", "circuit_open", "edge_busy", "crm_rate_limited", "crm_quota", "phone_lookup_unsupported"]);
