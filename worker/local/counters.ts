import type { Env } from "../env.js";
import { copiesHeld, hotPathCounters } from "../store/nodes.js";

/**
 * What the many-tenant bench (`npm run bench -- --only=tenants`) reads per identify: the calls
 * this isolate made to D1 (statements prepared, plus batch/exec), KV and Durable Objects. Only
 * under LOCAL_MODE: deployed, the bindings are handed over untouched.
 */
export const counters = { requests: 0, d1: 0, kv: 0, durableObjects: 0 };
/** Durable Object and KV calls by binding and method ("TENANT_HOME.append", "CACHE.put"): where each figure comes from. */
let byMethod: Record<string, number> = {};

function counted<T extends object>(target: T, count: (prop: string) => boolean, bump: (prop: string) => void, wrap?: (result: unknown) => unknown): T {
  return new Proxy(target, {
    get(t, prop) {
      const v: unknown = Reflect.get(t, prop);
      if (typeof v !== "function") return v;
      return (...args: unknown[]) => {
        const counts = typeof prop === "string" && count(prop);
        if (counts) bump(prop);
        const out = Reflect.apply(v, t, args) as unknown;
        return counts && wrap ? wrap(out) : out;
      };
    },
  });
}

const bumpMethod = (binding: string) => (m: string) => {
  const k = `${binding}.${m}`;
  byMethod[k] = (byMethod[k] ?? 0) + 1;
};

/** Every call to an object starts from get() (one stub per call in this code base); the stub counts its methods. */
function countedNamespace<T extends object>(ns: T, binding: string): T {
  return counted(ns, (p) => p === "get", () => counters.durableObjects++, (stub) => counted(stub as object, () => true, bumpMethod(binding)));
}

// One wrapped env per env object, so checks cached per env (secrets, worker/env.ts) stay once per isolate.
const wrapped = new WeakMap<Env, Env>();

export function countedEnv(env: Env): Env {
  counters.requests++;
  const known = wrapped.get(env);
  if (known) return known;
  const out: Env = {
    ...env,
    DB: counted(env.DB, (p) => p === "prepare" || p === "exec", () => counters.d1++),
    CACHE: counted(env.CACHE, (p) => ["get", "getWithMetadata", "put", "delete", "list"].includes(p), (p) => {
      counters.kv++;
      bumpMethod("CACHE")(p);
    }),
    TENANT_HOME: countedNamespace(env.TENANT_HOME, "TENANT_HOME"),
    CONFIG_FEED: countedNamespace(env.CONFIG_FEED, "CONFIG_FEED"),
  };
  if (env.CIRCUIT) out.CIRCUIT = countedNamespace(env.CIRCUIT, "CIRCUIT");
  wrapped.set(env, out);
  return out;
}

export function countersReport() {
  return { ...counters, byMethod, d1Batches: hotPathCounters.d1Batches, versionChecks: hotPathCounters.versionChecks, feedReads: hotPathCounters.feedReads, ...copiesHeld() };
}

export function resetCounters(): void {
  counters.requests = counters.d1 = counters.kv = counters.durableObjects = 0;
  byMethod = {};
  hotPathCounters.d1Batches = hotPathCounters.versionChecks = hotPathCounters.feedReads = 0;
}
