import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { z } from "zod";
import { contractReply, contractRequest, type ContractReply } from "../../shared/contract.js";
import { CUSTOMER_ID_PATTERN, isValidCustomerId, maskId } from "../../shared/ids.js";
import type { AppEnv } from "../env.js";
import { admitKey, credential, isOperatorToken, operatorOnly, refuseCredential, unauthorized } from "../http/auth.js";
import { documented, ok, security, tenantParam } from "../http/documented.js";
import { notFound } from "../http/errors.js";
import { maskNumber, normalizeCallerNumber, phoneQuery } from "../../shared/phone.js";
import { decide, decideNumber, type Decided } from "../identify/decide.js";
import { lookupCallerNumber, lookupCustomer, type CacheStatus, type LookupEnv, type Step } from "../identify/lookup-customer.js";
import { readIdentifyBody } from "../identify/read-request.js";
import { ApiError } from "../http/errors.js";
import { logDecision } from "../store/decisions.js";
import { loadIdentifyContext } from "../store/nodes.js";
import { sealingKeys } from "../store/connectors.js";
import { limitIdentify } from "../http/limits.js";
import { checkKey, parseKeyToken } from "../store/keys.js";

/** The answer leaves this long before the caller's X-Deadline-Ms runs out, for the trip back. */
export function deadlineMargin(budgetMs: number): number {
  return Math.min(200, Math.max(20, Math.round(budgetMs * 0.1)));
}

function parseDeadline(raw: string | undefined): number | null {
  if (raw === undefined || !/^\s*\d{1,6}\s*$/.test(raw)) return null;
  return Number(raw);
}

// A PBX dialplan and every access log on the way keep the URL: only the least powerful key may travel in it.
const adminKeyInUrl = () =>
  new ApiError(403, "admin_key_in_url", "an admin key may not be sent as ?key=: use an agent key there (or the Authorization header), and revoke this admin key if the URL was stored or logged");

const params = tenantParam.extend({ node: z.string() });

export function identifyRoutes(app: OpenAPIHono<AppEnv>) {
  documented(
    app,
    {
      method: "post",
      path: "/v1/tenants/{tenant}/nodes/{node}/identify",
      summary: "The OMniLeads CRM contract: idContact or callerNumber in, {status, destination} out",
      description:
        "Accepts the form POST of Asterisk's CURL() (idContact=<digits>), a JSON body, multipart, or text/plain holding either. An agent key (never an admin key: 403 admin_key_in_url) may come as ?key=. CRM trouble is a 200 with status fail and X-Bridge-Reason, never a 5xx. " +
        "callerNumber (crm-bridge's extension) looks the customer up by phone: normalized to E.164 (the node's defaultCountry reads national numbers); withheld or invalid numbers are fail with X-Bridge-Reason caller_number_unusable and no CRM call; two customers with the number are fail/ambiguous; no match is fail/caller_number_not_found. A match is answered by the node's mode as if the customer had typed their id, and the reply's idContact is that id (when the record holds one). With both fields, the id is looked up when the number does not identify exactly one customer.",
      security,
      request: {
        params,
        query: z.object({ key: z.string().optional() }),
        headers: z.object({ "x-deadline-ms": z.string().optional() }),
        body: {
          required: true,
          content: {
            "application/x-www-form-urlencoded": { schema: contractRequest },
            "application/json": { schema: contractRequest },
            "text/plain": { schema: z.string() },
          },
        },
      },
      responses: { 200: ok(contractReply, "The decision; see X-Cache, X-Bridge-Reason, Server-Timing"), 413: ok(z.any(), "Body too large"), 415: ok(z.any(), "Unsupported content type") },
    },
    identify,
  );
}

async function identify(c: Context<AppEnv>) {
  const started = Date.now();
  const tenant = c.req.param("tenant")!;
  // Auth is done here rather than by requireAuth so that the key, the node and its connectors
  // come from D1 in one round trip: this is the hot path of every call.
  const cred = credential(c, true);
  if (!cred) throw unauthorized();
  const parsedKey = parseKeyToken(cred.token);
  if (!parsedKey) {
    if (await isOperatorToken(c, cred.token)) throw operatorOnly();
    return refuseCredential(c, cred.token);
  }
  const dbStarted = Date.now();
  const ctx = await loadIdentifyContext(c.env.DB, sealingKeys(c.env), parsedKey.id, tenant, c.req.param("node")!);
  const key = await checkKey(ctx.keyRow, parsedKey.secret);
  if (!key) return refuseCredential(c, cred.token);
  const principal = admitKey(c, key, tenant, ["agent", "admin"]);
  if (cred.inUrl && principal.role === "admin") throw adminKeyInUrl();
  await limitIdentify(c, tenant);
  const body = await readIdentifyBody(c.req.raw);
  if (body.idContact === null && body.callerNumber === null) throw new ApiError(400, "missing_id_contact", "the body carries no idContact (nor callerNumber)");
  const loaded = await ctx.load();
  if (!loaded) throw notFound("node");
  const dbMs = Date.now() - dbStarted;
  let lookupMs = 0;
  const { node, connectors } = loaded;

  const budget = parseDeadline(c.req.header("x-deadline-ms"));
  const deadline = budget === null ? Infinity : started + budget - deadlineMargin(budget);

  let decided: Decided;
  let cache: CacheStatus = "BYPASS";
  let steps: Step[] = [];
  const lookupEnv: LookupEnv = {
    kv: c.env.CACHE,
    tenant,
    cacheGeneration: principal.cacheGen,
    allowPrivate: c.env.ALLOW_PRIVATE_CRM_URLS === "true",
    deadline,
    defer: (p) => c.executionCtx.waitUntil(p),
    circuit: c.env,
    node: node.id,
  };
  let maskedId = "";
  let byNumber: Decided | null = null;
  if (body.callerNumber !== null) {
    const number = normalizeCallerNumber(body.callerNumber, node.defaultCountry);
    if (!number.ok) {
      // Never a CRM call: a withheld number would match whoever has an empty phone field.
      maskedId = maskId(body.callerNumber.slice(0, 64));
      byNumber = { reply: { status: "fail", destination: "false" }, outcome: "invalid", reason: "caller_number_unusable" };
    } else {
      maskedId = maskNumber(number.e164);
      const lookupStarted = Date.now();
      const chain = await lookupCallerNumber(lookupEnv, connectors, phoneQuery(number.e164));
      lookupMs += Date.now() - lookupStarted;
      steps = chain.steps;
      cache = chain.ok ? chain.cache : "MISS";
      byNumber = decideNumber(node.interaction, chain);
    }
  }
  const idContact = body.idContact;
  // The number decided, or there is no id to fall back to.
  if (byNumber && (byNumber.reply.status === "ok" || idContact === null)) {
    decided = byNumber;
  } else if (idContact === null) {
    throw new ApiError(400, "missing_id_contact", "the body carries no idContact");
  } else if (!CUSTOMER_ID_PATTERN.test(idContact)) {
    decided = { reply: { status: "fail", destination: "false" }, outcome: "invalid", reason: "invalid_id" };
  } else if (node.interaction === "none") {
    // The agent decides such nodes alone; answering keeps OMniLeads-style callers working too.
    decided = isValidCustomerId(idContact, node.expectedLength)
      ? { reply: { status: "ok", destination: "true" }, outcome: "success", reason: null }
      : { reply: { status: "ok", destination: "false" }, outcome: "invalid", reason: "invalid_length" };
  } else if (!isValidCustomerId(idContact, node.expectedLength)) {
    decided = { reply: { status: "fail", destination: "false" }, outcome: "invalid", reason: "invalid_length" };
  } else {
    const lookupStarted = Date.now();
    const chain = await lookupCustomer(lookupEnv, connectors, idContact);
    lookupMs += Date.now() - lookupStarted;
    steps = [...steps, ...chain.steps];
    cache = chain.ok ? chain.cache : "MISS";
    decided = decide(node.interaction, chain);
  }

  const ms = Date.now() - started;
  logDecision(
    c.env.DB,
    tenant,
    {
      at: new Date(started).toISOString(),
      node: node.id,
      maskedId: decided === byNumber || idContact === null ? maskedId : maskId(idContact.slice(0, 64)),
      outcome: decided.outcome,
      status: decided.reply.status,
      destination: decided.reply.destination,
      reason: decided.reason,
      cache,
      ms,
      steps,
    },
    (p) => c.executionCtx.waitUntil(p),
  );
  const crmMs = steps.reduce((sum, s) => sum + (s.crmMs ?? 0), 0);
  const quotaMs = steps.reduce((sum, s) => sum + (s.quotaMs ?? 0), 0);
  return answer(c, decided.reply, cache, decided.reason, `db;dur=${dbMs}, lookup;dur=${lookupMs};desc=${cache}, quota;dur=${quotaMs}, crm;dur=${crmMs}, total;dur=${ms}`);
}

function answer(c: Context<AppEnv>, reply: ContractReply, cache: CacheStatus, reason: string | null, timing: string) {
  c.header("X-Cache", cache);
  if (reason) c.header("X-Bridge-Reason", reason);
  // Workers' clock moves only across I/O, so these are I/O times: D1, cache + CRM, the CRM alone.
  c.header("Server-Timing", timing);
  c.header("Cache-Control", "no-store");
  return c.json(reply, 200);
}
