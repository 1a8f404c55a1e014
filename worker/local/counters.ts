import type { Env } from "../env.js";
import { copiesHeld, hotPathCounters } from "../store/nodes.js";

/**
 * What the many-tenant bench (`npm run bench -- --only=tenants`) reads per identify: the calls
 * this isolate made to D1 (statements prepared, plus batch/exec), KV and Durable Objects. Only
 * under LOCAL_MODE: deployed, the bindings are handed over untouched.
 */
export const counters = { requests: 0, d1: 0, kv: 0, durableObjects: 0 };

function counted<T extends object>(target: T, count: (prop: string) => boolean, bump: () => void): T {
  return new Proxy(target, {
    get(t, prop) {
      const v: unknown = Reflect.get(t, prop);
      if (typeof v !== "function") return v;
      return (...args: unknown[]) => {
        if (typeof prop === "string" && count(prop)) bump();
        return Reflect.apply(v, t, args) as unknown;
      };
    },
  });
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
    CACHE: counted(env.CACHE, (p) => ["get", "getWithMetadata", "put", "delete", "list"].includes(p), () => counters.kv++),
    // Every call to an object starts from get(): one stub per call in this code base.
    TENANT_HOME: counted(env.TENANT_HOME, (p) => p === "get", () => counters.durableObjects++),
  };
  if (env.CIRCUIT) out.CIRCUIT = counted(env.CIRCUIT, (p) => p === "get", () => counters.durableObjects++);
  wrapped.set(env, out);
  return out;
}

export function countersReport() {
  return { ...counters, d1Batches: hotPathCounters.d1Batches, versionChecks: hotPathCounters.versionChecks, ...copiesHeld() };
}

export function resetCounters(): void {
  counters.requests = counters.d1 = counters.kv = counters.durableObjects = 0;
  hotPathCounters.d1Batches = hotPathCounters.versionChecks = 0;
}
