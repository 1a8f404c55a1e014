import type { Context } from "hono";
import type { ContractReply } from "../../shared/contract.js";
import { CUSTOMER_ID_PATTERN, isValidCustomerId, maskId } from "../../shared/ids.js";
import type { NodeConfig } from "../../shared/node.js";
import type { AppEnv } from "../env.js";
import { admitKey, credential, isOperatorToken, operatorOnly, refuseCredential, unauthorized } from "../http/auth.js";
import { limitIdentify } from "../http/limits.js";
import { decide, type Decided } from "../identify/decide.js";
import { lookupCustomer, type CacheStatus, type Step } from "../identify/lookup-customer.js";
import { readIdContact } from "../identify/read-request.js";
import { log } from "../observability/log.js";
import { logDecision } from "../store/decisions.js";
import { checkKey, parseKeyToken } from "../store/keys.js";
import { loadIdentifyContext } from "../store/nodes.js";
import { sealingKeys } from "./connectors.js";
import { DomainError, notFound } from "./errors.js";

/**
 * The identify call, start to end (SPEC 2, 6): authenticate → load context → read request →
 * validate id → look up (cache, then the connector chain) → decide → log → answer. The route only
 * turns the answer into headers.
 */
export type IdentifyAnswer = { reply: ContractReply; cache: CacheStatus; reason: string | null; timing: string };

export async function identify(c: Context<AppEnv>): Promise<IdentifyAnswer> {
  const started = Date.now();
  const tenant = c.req.param("tenant")!;
  const nodeId = c.req.param("node")!;
  let idContact = "";
  try {
    const key = await authenticate(c);
    const dbStarted = Date.now();
    const context = await loadContext(c, key, tenant, nodeId);
    idContact = await readRequest(c);
    const loaded = await context.load();
    if (!loaded) throw notFound("node");
    const { node, connectors } = loaded;
    const dbMs = Date.now() - dbStarted;

    const lookupStarted = Date.now();
    const early = validateId(idContact, node);
    const looked = early ? null : await lookUp(c, context.cacheGen, tenant, node.id, connectors, idContact, started);
    const decided = early ?? decide(node.interaction as Exclude<NodeConfig["interaction"], "none">, looked!);
    const lookupMs = looked ? Date.now() - lookupStarted : 0;
    const cache: CacheStatus = !looked ? "BYPASS" : looked.ok ? looked.cache : "MISS";
    const steps = looked?.steps ?? [];

    const ms = Date.now() - started;
    record(c, { tenant, node: node.id, idContact, decided, cache, steps, started, ms, keyId: context.keyId });
    const crmMs = steps.reduce((sum, s) => sum + (s.crmMs ?? 0), 0);
    const quotaMs = steps.reduce((sum, s) => sum + (s.quotaMs ?? 0), 0);
    // Workers' clock moves only across I/O, so these are I/O times: D1, cache + CRM, the quota guard, the CRM alone.
    const timing = `db;dur=${dbMs}, lookup;dur=${lookupMs};desc=${cache}, quota;dur=${quotaMs}, crm;dur=${crmMs}, total;dur=${ms}`;
    return { reply: decided.reply, cache, reason: decided.reason, timing };
  } catch (e) {
    // A refused call is logged too: the operator sees why an agent's call never reached a CRM.
    const reason = e instanceof DomainError ? e.code : "internal";
    log({ event: "identify", requestId: c.get("requestId"), tenant, node: nodeId, outcome: "refused", status: "error", reason, cache: "BYPASS", ms: Date.now() - started, maskedId: idContact ? maskId(idContact.slice(0, 64)) : "" });
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

/** Step 3: the idContact, in any encoding SPEC 2a allows. */
async function readRequest(c: Context<AppEnv>): Promise<string> {
  const idContact = await readIdContact(c.req.raw);
  if (idContact === null) throw new DomainError("missing_id_contact", "the body carries no idContact");
  return idContact;
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

/** Step 5: the cache, then the connector chain in order, all within the caller's deadline. */
function lookUp(c: Context<AppEnv>, cacheGeneration: number, tenant: string, nodeId: string, connectors: Parameters<typeof lookupCustomer>[1], idContact: string, started: number) {
  return lookupCustomer(
    {
      kv: c.env.CACHE,
      tenant,
      cacheGeneration,
      allowPrivate: c.env.ALLOW_PRIVATE_CRM_URLS === "true",
      deadline: deadlineOf(c.req.header("x-deadline-ms"), started),
      defer: (p) => c.executionCtx.waitUntil(p),
      circuit: c.env,
      node: nodeId,
    },
    connectors,
    idContact,
  );
}

type Outcome = { tenant: string; node: string; idContact: string; decided: Decided; cache: CacheStatus; steps: Step[]; started: number; ms: number; keyId: string };

/** Step 7: the decision log (the tenant's TenantHome object, for the admin pages) and one log line (Workers Logs, for the operator). */
function record(c: Context<AppEnv>, o: Outcome): void {
  const maskedId = maskId(o.idContact.slice(0, 64));
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
