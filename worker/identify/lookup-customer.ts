import type { CachePolicy } from "../../shared/connector.js";
import { CUSTOMER_ID_PATTERN } from "../../shared/ids.js";
import type { PhoneQuery } from "../../shared/phone.js";
import { gate, NOT_CRM_FAULTS, report, type CircuitEnv } from "../circuit/client.js";
import { cacheKey, isFresh, isUsableStale, readCached, writeCached, type CachedDecision } from "../cache/decision-cache.js";
import { CrmError } from "../connectors/errors.js";
import { connectorModule } from "../connectors/registry.js";
import { readPath } from "../connectors/record.js";
import { rulePaths } from "../connectors/rule-paths.js";
import { edgeValues, scrubRecord, SentValues } from "../connectors/scrub.js";
import type { LookupResult } from "../connectors/types.js";
import { applyRules } from "../rules/engine.js";
import type { StoredConnector } from "../store/connectors.js";
import type { RuleSet } from "../../shared/rules.js";

export type CacheStatus = "HIT" | "MISS" | "STALE" | "BYPASS";

/** One connector's part in a decision, as the decision log and the test endpoint show it. */
export type Step =
  | { connector: string; result: "found" | "notFound"; decision: string; cache: CacheStatus; rule?: number | string; matches?: number; reason?: string; crmMs?: number }
  | { connector: string; result: "error"; cache: CacheStatus; reason: string; crmMs?: number };

export type ChainResult =
  /** `customerId`: a caller-number lookup's matched customer, when the record (or webhook) says who. */
  | { ok: true; decision: string; cache: CacheStatus; steps: Step[]; customerId?: string }
  | { ok: false; reason: string; steps: Step[] };

export interface LookupEnv {
  kv: KVNamespace;
  tenant: string;
  cacheGeneration: number;
  allowPrivate: boolean;
  /** Absolute time (epoch ms) by which every step must be over. */
  deadline: number;
  /** Runs after the answer (ctx.waitUntil), for cache writes. */
  defer: (p: Promise<unknown>) => void;
  circuit: CircuitEnv;
}

// Concurrent misses for one key share one CRM call (SPEC 5). Per isolate, which is where the burst lands.
const inFlight = new Map<string, Promise<CachedDecision>>();

/** Turns a lookup into the cacheable decision: the webhook's own answer, or the connector's rules. */
function toCached(result: LookupResult, rules: RuleSet | null, idPath: string | null): CachedDecision {
  const at = Date.now();
  switch (result.kind) {
    case "reply":
      return { d: result.reply.destination, f: true, at, ...(idPath !== null && result.reply.idContact ? { id: result.reply.idContact } : {}) };
    case "notFound":
      return { d: rules?.notFound ?? "false", f: false, at, rule: "notFound" };
    case "record": {
      const o = applyRules(rules ?? { rules: [], default: "true", notFound: "false" }, result.record);
      const id = idPath ? customerIdAt(result.record, idPath) : undefined;
      return { d: o.destination, f: true, at, rule: o.rule, m: result.matches, ...(id ? { id } : {}) };
    }
  }
}

/** The customer id a record holds, if it is one a caller could have typed (digits). */
function customerIdAt(record: unknown, path: string): string | undefined {
  const v = readPath(record, path);
  const text = typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? String(v) : typeof v === "string" ? v.trim() : undefined;
  return text !== undefined && CUSTOMER_ID_PATTERN.test(text) ? text : undefined;
}

function ruleSetOf(config: StoredConnector["config"]): RuleSet | null {
  return "rules" in config ? (config as unknown as RuleSet) : null;
}

/** Calls the CRM with no cache at all: the admin "test" endpoint and the cache-miss path share it. */
export async function callConnector(c: StoredConnector, customerId: string, tenant: string, signal: AbortSignal, allowPrivate: boolean, phone?: PhoneQuery) {
  const module = connectorModule(c.config.kind);
  const sent = new SentValues();
  const result = await module.lookup(c.config, { tenant, connectorId: c.id, customerId, ...(phone ? { callerNumber: phone } : {}), http: { signal, allowPrivate, sent } });
  const rules = ruleSetOf(c.config);
  // Before the rules read it: a CRM echoing the request must not let a rule (or the test's "fields read") see a credential.
  if (result.kind === "record" && rules) scrubRecord(result.record, rulePaths(rules.rules), edgeValues(c.config, module.secrets, sent));
  // Only a number lookup needs to learn who the customer is; an id lookup was told.
  const idPath = phone ? (("idPath" in c.config ? (c.config.idPath as string | undefined) : undefined) ?? module.defaultIdPath?.(c.config) ?? "") : null;
  return { result, cached: toCached(result, rules, idPath) };
}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new CrmError("crm_timeout", "CRM did not answer in time")), Math.max(0, ms));
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e) => (clearTimeout(t), reject(e)),
    );
  });
}

async function runStep(env: LookupEnv, c: StoredConnector, customerId: string, phone?: PhoneQuery): Promise<Step & { entry?: CachedDecision }> {
  const policy: CachePolicy = c.config.cache;
  const key = await cacheKey({ tenant: env.tenant, generation: env.cacheGeneration, connector: c.id, rev: c.rev, customerId, ...(phone ? { callerNumber: phone.e164 } : {}) });
  const cached = await readCached(env.kv, key);
  const now = Date.now();
  if (cached && isFresh(cached, policy, now)) return stepOf(c.id, cached, "HIT");

  const budget = Math.min(c.config.timeoutMs, env.deadline - Date.now());
  if (budget <= 0) return fallback(c.id, cached, policy, "crm_timeout");
  let flight = inFlight.get(key);
  if (!flight) {
    const admitted = await gate(env.circuit, env.tenant, c.id);
    if (!admitted.allowed) return fallback(c.id, cached, policy, "circuit_open");
    const signal = AbortSignal.timeout(budget);
    // A timeout under a budget the caller cut short says nothing about the CRM's health.
    const cutByCaller = budget < c.config.timeoutMs;
    flight = callConnector(c, customerId, env.tenant, signal, env.allowPrivate, phone).then((r) => r.cached);
    inFlight.set(key, flight);
    const done = flight.then(
      (entry) => {
        report(env.circuit, env.tenant, c.id, true, admitted.probe, env.defer);
        return writeCached(env.kv, key, entry, policy);
      },
      (e: unknown) => {
        const code = e instanceof CrmError ? e.code : "crm_error";
        if (NOT_CRM_FAULTS.has(code) || (code === "crm_timeout" && cutByCaller)) return;
        report(env.circuit, env.tenant, c.id, false, admitted.probe, env.defer);
      },
    );
    env.defer(done.finally(() => inFlight.delete(key)));
  }
  const waitStarted = Date.now();
  try {
    // A shared flight may have started under a longer budget than this caller has left.
    const entry = await withDeadline(flight, budget);
    return { ...stepOf(c.id, entry, "MISS"), crmMs: Date.now() - waitStarted };
  } catch (e) {
    const reason = e instanceof CrmError ? e.code : "crm_error";
    return { ...fallback(c.id, cached, policy, reason), crmMs: Date.now() - waitStarted };
  }
}

function stepOf(connector: string, entry: CachedDecision, cache: CacheStatus, reason?: string): Step & { entry: CachedDecision } {
  return {
    connector,
    result: entry.f ? "found" : "notFound",
    decision: entry.d,
    cache,
    ...(entry.rule !== undefined ? { rule: entry.rule } : {}),
    ...(entry.m !== undefined ? { matches: entry.m } : {}),
    ...(reason ? { reason } : {}),
    entry,
  };
}

/** A failing or slow CRM is answered from the last good entry while it is within staleIfErrorSeconds. */
function fallback(connector: string, cached: CachedDecision | null, policy: CachePolicy, reason: string): Step {
  if (cached && isUsableStale(cached, policy, Date.now())) return stepOf(connector, cached, "STALE", reason);
  return { connector, result: "error", cache: "MISS", reason };
}

/**
 * Asks the node's connectors in order; the first that finds a record decides. When none
 * finds one, the `notFound` of the last one that answered applies; when none answered, the
 * last failure's reason is the answer (SPEC 4).
 */
export async function lookupCustomer(env: LookupEnv, connectors: StoredConnector[], customerId: string): Promise<ChainResult> {
  const steps: Step[] = [];
  let lastNotFound: Step | null = null;
  for (const c of connectors) {
    const { entry: _entry, ...step } = (await runStep(env, c, customerId)) as Step & { entry?: CachedDecision };
    steps.push(step);
    if (step.result === "found") return { ok: true, decision: step.decision, cache: step.cache, steps };
    if (step.result === "notFound") lastNotFound = step;
  }
  if (lastNotFound && lastNotFound.result === "notFound") {
    return { ok: true, decision: lastNotFound.decision, cache: lastNotFound.cache, steps };
  }
  const failed = steps.at(-1);
  return { ok: false, reason: failed && failed.result === "error" ? failed.reason : "no_connector", steps };
}

/**
 * A caller-number lookup through the same chain: the first connector that finds the number
 * decides, but only when it found exactly one customer (two customers sharing a number is
 * `ambiguous`: never guess). No match anywhere is `caller_number_not_found`, not the
 * connectors' notFound rules, which say what to do with an id that was typed.
 */
export async function lookupCallerNumber(env: LookupEnv, connectors: StoredConnector[], phone: PhoneQuery): Promise<ChainResult> {
  const steps: Step[] = [];
  let anyAnswered = false;
  for (const c of connectors) {
    const { entry, ...step } = await runStep(env, c, "", phone);
    steps.push(step);
    if (step.result === "found") {
      if ((entry?.m ?? 1) > 1) return { ok: false, reason: "ambiguous", steps };
      return { ok: true, decision: step.decision, cache: step.cache, steps, ...(entry?.id ? { customerId: entry.id } : {}) };
    }
    if (step.result === "notFound") anyAnswered = true;
  }
  const failed = steps.at(-1);
  if (anyAnswered) return { ok: false, reason: "caller_number_not_found", steps };
  return { ok: false, reason: failed && failed.result === "error" ? failed.reason : "no_connector", steps };
}
