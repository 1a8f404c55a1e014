import type { Context } from "hono";
import type { ContractReply } from "../../shared/contract.js";
import { CUSTOMER_ID_PATTERN, isValidCustomerId, maskId } from "../../shared/ids.js";
import type { NodeConfig } from "../../shared/node.js";
import { maskNumber, normalizeCallerNumber, phoneQuery } from "../../shared/phone.js";
import type { AppEnv } from "../env.js";
import { admitKey, credential, isOperatorToken, operatorOnly, refuseCredential, unauthorized } from "../http/auth.js";
import { limitIdentify } from "../http/limits.js";
import { decide, decideNumber, type Decided } from "../identify/decide.js";
import { lookupCallerNumber, lookupCustomer, type CacheStatus, type LookupEnv, type Step } from "../identify/lookup-customer.js";
import { readIdentifyBody, type IdentifyBody } from "../identify/read-request.js";
import { log } from "../observability/log.js";
import { logDecision } from "../store/decisions.js";
import { checkKey, parseKeyToken } from "../store/keys.js";
import { loadIdentifyContext } from "../store/nodes.js";
import { sealingKeys } from "./connectors.js";
import { DomainError, notFound } from "./errors.js";

/**
 * The identify call, start to end (SPEC 2, 6): authenticate → load context → read request →
 * (by caller number: normalize → look up → decide) → validate id → look up (cache, then the
 * connector chain) → decide → log → answer. The route only turns the answer into headers; the
 * reply carries idContact when a caller number matched one customer.
 */
export type IdentifyAnswer = { reply: ContractReply; cache: CacheStatus; reason: string | null; timing: string };

export async function identify(c: Context<AppEnv>): Promise<IdentifyAnswer> {
  const started = Date.now();
  const tenant = c.req.param("tenant")!;
  const nodeId = c.req.param("node")!;
  // Whatever identifies the call in the logs; never the full id or number.
  let maskedId = "";
  try {
    const key = await authenticate(c);
    const dbStarted = Date.now();
    const context = await loadContext(c, key, tenant, nodeId);
    const body = await readRequest(c);
    maskedId = body.idContact !== null ? maskId(body.idContact.slice(0, 64)) : maskId(body.callerNumber!.slice(0, 64));
    const loaded = await context.load();
    if (!loaded) throw notFound("node");
    const { node, connectors } = loaded;
    const dbMs = Date.now() - dbStarted;

    const env = lookupEnv(c, context.cacheGen, tenant, node.id, started);
    const lookupStarted = Date.now();
    const byNumber = body.callerNumber === null ? null : await identifyByNumber(env, node, connectors, body.callerNumber);
    let decided: Decided;
    let cache: CacheStatus;
    let steps: Step[];
    let looked = byNumber?.looked ?? false;
    // The number decided, or there is no id to fall back to.
    if (byNumber && (byNumber.decided.reply.status === "ok" || body.idContact === null)) {
      ({ decided, cache, steps } = byNumber);
      maskedId = byNumber.maskedId;
    } else {
      const idContact = body.idContact!;
      const early = validateId(idContact, node);
      const chain = early ? null : await lookupCustomer(env, connectors, idContact);
      decided = early ?? decide(node.interaction as Exclude<NodeConfig["interaction"], "none">, chain!);
      cache = chain ? (chain.ok ? chain.cache : "MISS") : (byNumber?.cache ?? "BYPASS");
      steps = [...(byNumber?.steps ?? []), ...(chain?.steps ?? [])];
      looked ||= chain !== null;
    }
    const lookupMs = looked ? Date.now() - lookupStarted : 0;

    const ms = Date.now() - started;
    record(c, { tenant, node: node.id, maskedId, decided, cache, steps, started, ms, keyId: context.keyId });
    const crmMs = steps.reduce((sum, s) => sum + (s.crmMs ?? 0), 0);
    const quotaMs = steps.reduce((sum, s) => sum + (s.quotaMs ?? 0), 0);
    // Workers' clock moves only across I/O, so these are I/O times: D1, cache + CRM, the quota guard, the CRM alone.
    const timing = `db;dur=${dbMs}, lookup;dur=${lookupMs};desc=${cache}, quota;dur=${quotaMs}, crm;dur=${crmMs}, total;dur=${ms}`;
    return { reply: decided.reply, cache, reason: decided.reason, timing };
  } catch (e) {
    // A refused call is logged too: the operator sees why an agent's call never reached a CRM.
    const reason = e instanceof DomainError ? e.code : "internal";
    log({ event: "identify", requestId: c.get("requestId"), tenant, node: nodeId, outcome: "refused", status: "error", reason, cache: "BYPASS", ms: Date.now() - started, maskedId });
    throw e;
  }
}

/** The answer leaves this long before the caller's X-Deadline-Ms runs out, for the trip back. */
export function deadlineMargin(budgetMs: number): number {
  return Math.min(200, Math.max(20, Math.round(budgetMs * 0.1)));
}

function deadlineOf(raw: string | undefined, started: number): number {
  if (raw === undefined || !/^\s*\d{1,6}\s*$/.test(raw)) return Infinity;
  const budget = Number(raw);
  return started + budget - deadlineMargin(budget);
}

// A PBX dialplan and every access log on the way keep the URL: only the least powerful key may travel in it.
const adminKeyInUrl = () =>
  new DomainError("admin_key_in_url", "an admin key may not be sent as ?key=: use an agent key there (or the Authorization header), and revoke this admin key if the URL was stored or logged");

/**
 * Step 1: the credential, before any D1 read. Auth is done here rather than by requireAuth so
 * that the key, the node and its connectors come from D1 in one round trip (step 2).
 */
async function authenticate(c: Context<AppEnv>) {
  const cred = credential(c, true);
  if (!cred) throw unauthorized();
  const parsed = parseKeyToken(cred.token);
  if (!parsed) {
    if (await isOperatorToken(c, cred.token)) throw operatorOnly();
    return refuseCredential(c, cred.token);
  }
  return { ...cred, ...parsed };
}

/** Step 2: key row, node and connectors in one read; the key must be a live agent or admin key of this tenant. */
async function loadContext(c: Context<AppEnv>, cred: Awaited<ReturnType<typeof authenticate>>, tenant: string, nodeId: string) {
  const ctx = await loadIdentifyContext(c.env, sealingKeys(c.env), cred.id, tenant, nodeId);
  const key = await checkKey(ctx.keyRow, cred.secret);
  if (!key) return refuseCredential(c, cred.token);
  // Last use is recorded by the tenant's object with the decision log, not by a D1 write per call.
  const principal = admitKey(c, key, tenant, ["agent", "admin"], false);
  if (cred.inUrl && principal.role === "admin") throw adminKeyInUrl();
  await limitIdentify(c, tenant);
  return { load: ctx.load, cacheGen: principal.cacheGen, keyId: key.id };
}

/** Step 3: the idContact and/or callerNumber, in any encoding SPEC 2a allows. */
async function readRequest(c: Context<AppEnv>): Promise<IdentifyBody> {
  const body = await readIdentifyBody(c.req.raw);
  if (body.idContact === null && body.callerNumber === null) throw new DomainError("missing_id_contact", "the body carries no idContact (nor callerNumber)");
  return body;
}

type ByNumber = { decided: Decided; cache: CacheStatus; steps: Step[]; maskedId: string; looked: boolean };

/** Step 3b (issue 12): the caller number, normalized, looked up by phone through the same chain. */
async function identifyByNumber(env: LookupEnv, node: NodeConfig, connectors: Parameters<typeof lookupCustomer>[1], raw: string): Promise<ByNumber> {
  const number = normalizeCallerNumber(raw, node.defaultCountry);
  if (!number.ok) {
    // Never a CRM call: a withheld number would match whoever has an empty phone field.
    const decided: Decided = { reply: { status: "fail", destination: "false" }, outcome: "invalid", reason: "caller_number_unusable" };
    return { decided, cache: "BYPASS", steps: [], maskedId: maskId(raw.slice(0, 64)), looked: false };
  }
  const chain = await lookupCallerNumber(env, connectors, phoneQuery(number.e164));
  return { decided: decideNumber(node.interaction, chain), cache: chain.ok ? chain.cache : "MISS", steps: chain.steps, maskedId: maskNumber(number.e164), looked: true };
}

/** Step 4: an id that is not worth a CRM call is decided here; null = go and look it up. */
function validateId(idContact: string, node: NodeConfig): Decided | null {
  const valid = isValidCustomerId(idContact, node.expectedLength);
  if (!CUSTOMER_ID_PATTERN.test(idContact)) return { reply: { status: "fail", destination: "false" }, outcome: "invalid", reason: "invalid_id" };
  if (node.interaction === "none") {
    // The agent decides such nodes alone; answering keeps OMniLeads-style callers working too.
    return valid
      ? { reply: { status: "ok", destination: "true" }, outcome: "success", reason: null }
      : { reply: { status: "ok", destination: "false" }, outcome: "invalid", reason: "invalid_length" };
  }
  return valid ? null : { reply: { status: "fail", destination: "false" }, outcome: "invalid", reason: "invalid_length" };
}

/** Step 5's setting: the cache, then the connector chain in order, all within the caller's deadline. */
function lookupEnv(c: Context<AppEnv>, cacheGeneration: number, tenant: string, nodeId: string, started: number): LookupEnv {
  return {
    kv: c.env.CACHE,
    tenant,
    cacheGeneration,
    allowPrivate: c.env.ALLOW_PRIVATE_CRM_URLS === "true",
    deadline: deadlineOf(c.req.header("x-deadline-ms"), started),
    defer: (p) => c.executionCtx.waitUntil(p),
    circuit: c.env,
    node: nodeId,
  };
}

type Outcome = { tenant: string; node: string; maskedId: string; decided: Decided; cache: CacheStatus; steps: Step[]; started: number; ms: number; keyId: string };

/** Step 7: the decision log (the tenant's TenantHome object, for the admin pages) and one log line (Workers Logs, for the operator). */
function record(c: Context<AppEnv>, o: Outcome): void {
  const { maskedId } = o;
  const { reply, outcome, reason } = o.decided;
  logDecision(
    c.env,
    o.tenant,
    { at: new Date(o.started).toISOString(), node: o.node, maskedId, outcome, status: reply.status, destination: reply.destination, reason, cache: o.cache, ms: o.ms, steps: o.steps },
    o.keyId,
    (p) => c.executionCtx.waitUntil(p),
  );
  log({ event: "identify", requestId: c.get("requestId"), tenant: o.tenant, node: o.node, outcome, status: reply.status, reason, cache: o.cache, ms: o.ms, maskedId });
}
