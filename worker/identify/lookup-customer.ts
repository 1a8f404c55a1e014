import { boundedWait } from "../../shared/bounded-wait.js";
import type { CachePolicy } from "../../shared/connector.js";
import { CUSTOMER_ID_PATTERN } from "../../shared/ids.js";
import type { PhoneQuery } from "../../shared/phone.js";
import { effectiveQuota } from "../../shared/quota.js";
import { acquire, observeCall, throttleWatch } from "../quota/client.js";
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
import type { Reason } from "../../shared/reasons.js";

export type CacheStatus = "HIT" | "MISS" | "STALE" | "BYPASS";

/** One connector's part in a decision, as the decision log and the test endpoint show it. */
export type Step =
  | { connector: string; result: "found" | "notFound"; decision: string; cache: CacheStatus; rule?: number | string; matches?: number; reason?: Reason; crmMs?: number; quotaMs?: number }
  | { connector: string; result: "error"; cache: CacheStatus; reason: Reason; crmMs?: number; quotaMs?: number };

export type ChainResult =
  /** `notFound`: no connector found the customer; the decision is a `notFound` rule's. `customerId`: a caller-number lookup's matched customer, when the record (or webhook) says who. */
  | { ok: true; decision: string; cache: CacheStatus; steps: Step[]; notFound?: true; customerId?: string }
  | { ok: false; reason: Reason; steps: Step[] };

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
  /** The node asking: the quota guard's queue is fair between nodes. */
  node: string;
}

// Concurrent misses for one key share one CRM call (SPEC 5). Per isolate, which is where the burst lands.
// eslint-disable-next-line no-restricted-syntax -- CRM calls in flight: each entry is deleted when its call settles
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
export async function callConnector(c: StoredConnector, customerId: string, tenant: string, signal: AbortSignal, allowPrivate: boolean, observe?: (status: number, headers: Headers) => void, phone?: PhoneQuery) {
  const module = connectorModule(c.config.kind);
  const sent = new SentValues();
  const result = await module.lookup(c.config, { tenant, connectorId: c.id, customerId, ...(phone ? { callerNumber: phone } : {}), http: { signal, allowPrivate, sent, ...(observe ? { observe } : {}) } });
  const rules = ruleSetOf(c.config);
  // Only a number lookup needs to learn who the customer is; an id lookup was told.
  const idPath = phone ? (("idPath" in c.config ? (c.config.idPath as string | undefined) : undefined) ?? module.defaultIdPath?.(c.config) ?? "") : null;
  // Before anything reads it: a CRM echoing the request must not let a rule, the test's "fields read"
  // or the customer id a number lookup answers with (idPath: a numeric API key fits) carry a credential.
  const read = [...(rules ? rulePaths(rules.rules) : []), ...(idPath ? [idPath] : [])];
  if (result.kind === "record" && read.length) scrubRecord(result.record, read, edgeValues(c.config, module.secrets, sent));
  return { result, cached: toCached(result, rules, idPath) };
}

const crmTimeout = () => new CrmError("crm_timeout", "CRM did not answer in time");

async function runStep(env: LookupEnv, c: StoredConnector, customerId: string, phone?: PhoneQuery): Promise<Step & { entry?: CachedDecision }> {
  const policy: CachePolicy = c.config.cache;
  const key = await cacheKey({ tenant: env.tenant, generation: env.cacheGeneration, connector: c.id, rev: c.rev, customerId, ...(phone ? { callerNumber: phone.e164 } : {}) });
  const cached = await readCached(env.kv, key);
  const now = Date.now();
  if (cached && isFresh(cached, policy, now)) return stepOf(c.id, cached, "HIT");

  const budget = Math.min(c.config.timeoutMs, env.deadline - now);
  if (budget <= 0) return fallback(c.id, cached, policy, "crm_timeout");
  // Waiting for a quota token spends this step's time: the CRM call gets what is left.
  const stepEnd = now + budget;
  const waitStarted = Date.now();
  // Time this caller's flight spent waiting for a quota token (Server-Timing's quota entry).
  const quotaWait = { ms: 0 };
  let flight = inFlight.get(key);
  let probe = false;
  if (!flight) {
    const admitted = await gate(env.circuit, env.tenant, c.id);
    if (!admitted.allowed) return fallback(c.id, cached, policy, "circuit_open");
    probe = admitted.probe;
    flight = inFlight.get(key);
  }
  if (!flight) {
    // A timeout under a budget the caller (or the wait for a quota token) cut short says nothing about the CRM's health.
    let cutByCaller = budget < c.config.timeoutMs;
    const callStarted = { at: 0 };
    const waitedFor = quotaWait;
    const throttle = throttleWatch(env.circuit, env.tenant, c.id, env.defer);
    // The wait for a quota token is part of the shared flight: concurrent misses for one id
    // take one token and make one CRM call. Cache hits never get here.
    flight = (async () => {
      const token = await acquire({ env: env.circuit, tenant: env.tenant, connector: c.id, node: env.node, quota: effectiveQuota(c.config), stepDeadline: stepEnd, holdMs: c.config.timeoutMs, defer: env.defer });
      waitedFor.ms = Date.now() - waitStarted;
      const left = stepEnd - Date.now();
      if (!token.ok || left <= 0) throw new CrmError("crm_quota", "CRM quota: no token within the deadline");
      cutByCaller ||= left < c.config.timeoutMs;
      callStarted.at = Date.now();
      return (await callConnector(c, customerId, env.tenant, AbortSignal.timeout(left), env.allowPrivate, throttle.observe, phone)).cached;
    })();
    inFlight.set(key, flight);
    const done = flight.then(
      (entry) => {
        observeCall(env.tenant, c.id, Date.now() - callStarted.at);
        report(env.circuit, env.tenant, c.id, true, probe, env.defer);
        return writeCached(env.kv, key, entry, policy);
      },
      (e: unknown) => {
        const code = e instanceof CrmError ? e.code : "crm_error";
        throttle.failed(e);
        if (NOT_CRM_FAULTS.has(code) || (code === "crm_timeout" && cutByCaller)) return;
        report(env.circuit, env.tenant, c.id, false, probe, env.defer);
      },
    );
    env.defer(done.finally(() => inFlight.delete(key)));
  }
  try {
    // A shared flight may have started under a longer budget than this caller has left.
    const entry = await boundedWait(flight, { ms: stepEnd - Date.now() }, crmTimeout);
    return { ...stepOf(c.id, entry, "MISS"), ...times(waitStarted, quotaWait.ms) };
  } catch (e) {
    const reason = e instanceof CrmError ? e.code : "crm_error";
    return { ...fallback(c.id, cached, policy, reason), ...times(waitStarted, quotaWait.ms) };
  }
}

/** The step's time split into the wait for a quota token and the CRM's own time. */
function times(started: number, quotaMs: number): { crmMs: number; quotaMs?: number } {
  const total = Date.now() - started;
  return quotaMs > 0 ? { crmMs: Math.max(0, total - quotaMs), quotaMs } : { crmMs: total };
}

function stepOf(connector: string, entry: CachedDecision, cache: CacheStatus, reason?: Reason): Step & { entry: CachedDecision } {
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
function fallback(connector: string, cached: CachedDecision | null, policy: CachePolicy, reason: Reason): Step {
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
    return { ok: true, decision: lastNotFound.decision, cache: lastNotFound.cache, steps, notFound: true };
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
