import { z } from "zod";
import { customerId, maskId } from "../../shared/ids.js";
import { countryCode, MAX_CALLER_NUMBER_LENGTH, normalizeCallerNumber, phoneQuery, type PhoneQuery } from "../../shared/phone.js";
import type { Rule } from "../../shared/rules.js";
import { CrmError } from "../connectors/errors.js";
import { readPath } from "../connectors/record.js";
import { connectorConfig, connectorModule, type ConnectorConfig } from "../connectors/registry.js";
import { rulePaths } from "../connectors/rule-paths.js";
import { keepStoredSecrets } from "../connectors/secrets.js";
import type { Env } from "../env.js";
import { callConnector } from "../identify/lookup-customer.js";
import { acquireNow, connectorUsageOf, quotaUsage, throttleWatch } from "../quota/client.js";
import { effectiveQuota } from "../../shared/quota.js";
import * as store from "../store/connectors.js";
import { getTenantSettings } from "../store/tenants.js";
import { logChange, type ServiceContext } from "./context.js";
import { DomainError, notFound, parseId, parseOrFail, QuotaRefused, SecretRequired, validationFailed, type ParseParams } from "./errors.js";

/** Where a connector is validated: its id, its config against its kind's schema, and its secrets against what is stored. */

/**
 * The keys that seal and open stored CRM secrets (ENCRYPTION_KEY, and ENCRYPTION_KEY_PREVIOUS
 * during a rotation). Unset, ENCRYPTION_KEY fails with a clear code at the first secret it meets.
 */
export function sealingKeys(env: Env): store.SealingKeys {
  return {
    current: () => {
      if (!env.ENCRYPTION_KEY) throw new DomainError("encryption_key_missing", "the worker secret ENCRYPTION_KEY is not set");
      return env.ENCRYPTION_KEY;
    },
    previous: env.ENCRYPTION_KEY_PREVIOUS,
  };
}

/** The ENCRYPTION_KEY rotation step: every stored secret re-sealed under the current key (safe to repeat). */
export function resealSecrets(ctx: ServiceContext) {
  return store.resealAll(ctx.env.DB, sealingKeys(ctx.env));
}

export const parseConnectorId = (raw: string | undefined) => parseId(raw, "invalid_connector_id", "connector");

/** The config against its kind's schema, before anything is read or stored. */
export const checkConnector = (input: unknown, parse?: ParseParams): ConnectorConfig => parseOrFail(connectorConfig, input, parse);

/**
 * Create or replace. The config is checked against its kind's schema (zod messages in the
 * caller's language when `parse` carries an error map); "***" keeps a stored secret, unless where
 * that secret is sent changed (secret_required).
 */
export async function putConnector(ctx: ServiceContext, tenant: string, id: string, input: unknown, parse?: ParseParams) {
  const started = Date.now();
  const incoming = checkConnector(input, parse);
  const module = connectorModule(incoming.kind);
  const keys = sealingKeys(ctx.env);
  const stored = await store.getConnectorWithSecrets(ctx.env.DB, keys, tenant, id);
  const { config, missing, rebound } = keepStoredSecrets(incoming, stored, module);
  if (rebound) throw new SecretRequired(rebound.secrets, rebound.destinations);
  if (missing.length) throw validationFailed(missing.map((path) => ({ path, message: "secret required" })));
  const saved = await store.saveConnector(ctx.env.DB, keys, tenant, id, config, module.secrets);
  logChange(ctx, tenant, "connector.put", id, saved.created ? "created" : "updated", started);
  // Wakes the connector's guard object now, so that the first identify does not pay for its start.
  await quotaUsage(ctx.env, tenant, id, effectiveQuota(saved.config)).catch(() => null);
  return { created: saved.created, connector: { id, ...saved.config } };
}

/** A connector with its secrets masked, or null. */
export function findConnector(ctx: ServiceContext, tenant: string, id: string): Promise<ConnectorConfig | null> {
  return store.getMaskedConnector(ctx.env.DB, tenant, id);
}

export async function getConnector(ctx: ServiceContext, tenant: string, id: string) {
  const config = await findConnector(ctx, tenant, id);
  if (!config) throw notFound("connector");
  return { id, ...config };
}

/** The connector's CRM quota use: calls in the current window against the limit, daily use, calls shed, the last 429. */
export async function connectorUsage(ctx: ServiceContext, tenant: string, id: string) {
  const config = await findConnector(ctx, tenant, id);
  if (!config) throw notFound("connector");
  return connectorUsageOf(ctx.env, tenant, id, config);
}

export function listConnectors(ctx: ServiceContext, tenant: string) {
  return store.listMaskedConnectors(ctx.env.DB, tenant);
}

/** The nodes whose chain names the connector. */
export function connectorUsers(ctx: ServiceContext, tenant: string, id: string): Promise<string[]> {
  return store.nodesUsingConnector(ctx.env.DB, tenant, id);
}

const inUse = (users: string[]) => new DomainError("connector_in_use", `used by node(s): ${users.join(", ")}`);

/** Refused (connector_in_use, naming the nodes) while a node's chain names it. */
export async function deleteConnector(ctx: ServiceContext, tenant: string, id: string): Promise<void> {
  const started = Date.now();
  const users = await connectorUsers(ctx, tenant, id);
  if (users.length) throw inUse(users);
  if (!(await store.deleteUnusedConnector(ctx.env.DB, tenant, id))) {
    // A node that started using it meanwhile, or it was never there.
    const now = await connectorUsers(ctx, tenant, id);
    throw now.length ? inUse(now) : notFound("connector");
  }
  logChange(ctx, tenant, "connector.delete", id, "deleted", started);
}

/** An id, or a caller number (read in `defaultCountry`, else the tenant's, when national) to try the phone lookup. */
export const testRequest = z
  .object({ idContact: z.string().max(64).optional(), callerNumber: z.string().max(MAX_CALLER_NUMBER_LENGTH).optional(), defaultCountry: countryCode.optional().describe("reads a national callerNumber; left out: the tenant's defaultCountry") })
  .strict()
  .refine((b) => (b.idContact === undefined) !== (b.callerNumber === undefined), "exactly one of idContact and callerNumber");

const step = z.object({
  connector: z.string(),
  result: z.enum(["found", "notFound", "error"]),
  cache: z.literal("BYPASS"),
  decision: z.string().optional(),
  rule: z.union([z.number(), z.string()]).optional(),
  matches: z.number().optional(),
  reason: z.string().optional(),
});
export const testReply = z.union([
  z.object({
    ok: z.literal(true),
    connector: z.string(),
    kind: z.string(),
    result: z.enum(["found", "notFound"]),
    /** "true", "false" or "X,Y", before the node's mode is applied. */
    decision: z.string(),
    /** Index of the rule that matched, or "default" / "notFound". */
    rule: z.union([z.number(), z.string()]).optional(),
    matches: z.number().int(),
    /** Caller-number tries: the customer id read at the connector's idPath, masked like every shown id. */
    maskedCustomerId: z.string().optional(),
    /** Only the record paths the rules read; objects and lists of objects are summarised, not shown. */
    fields: z.record(z.string(), z.unknown()),
    ms: z.number(),
    steps: z.array(step),
  }),
  z.object({ ok: z.literal(false), connector: z.string(), kind: z.string(), reason: z.string(), ms: z.number(), steps: z.array(step) }),
]);
export type TestReply = z.infer<typeof testReply>;

/** A rule path's value as the test shows it: scalars as they are, structures only by their kind. */
function shown(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.every((v) => v === null || typeof v !== "object") ? value.slice(0, 20) : `[list of ${value.length}]`;
  return "[object]";
}

function fieldsRead(record: unknown, rules: readonly Rule[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of rulePaths(rules)) {
    const v = readPath(record, p);
    if (v !== undefined) out[p] = shown(v);
  }
  return out;
}

/**
 * Runs a connector's lookup for one id (or one caller number) without the cache and shows how its rules decided. A CRM
 * that fails is an answer ({ ok: false, reason }), not an error; only the stable code leaves, since
 * a CRM's own error text may quote credentials or data.
 */
export async function testConnector(ctx: ServiceContext, tenant: string, id: string, input: unknown): Promise<TestReply> {
  const body = parseOrFail(testRequest, input);
  let phone: PhoneQuery | undefined;
  if (body.callerNumber !== undefined) {
    const n = normalizeCallerNumber(body.callerNumber, body.defaultCountry ?? (await getTenantSettings(ctx.env.DB, tenant)).defaultCountry);
    if (!n.ok) throw new DomainError("caller_number_unusable", "callerNumber is withheld, invalid, or national without a defaultCountry");
    phone = phoneQuery(n.e164);
  } else if (!customerId.safeParse(body.idContact).success) throw new DomainError("invalid_id", "idContact must be 1–30 digits");
  const connector = await store.getConnector(ctx.env.DB, sealingKeys(ctx.env), tenant, id);
  if (!connector) throw notFound("connector");
  const kind = connector.config.kind;
  // A test spends the same CRM budget as live calls, through the same guard: without a token
  // the CRM is not called (an admin clicking "test" must not cause 429s for callers).
  const token = await acquireNow({ env: ctx.env, tenant, connector: id, quota: effectiveQuota(connector.config), holdMs: connector.config.timeoutMs });
  if (!token.ok) throw new QuotaRefused(Math.max(1, Math.ceil(token.retryInMs / 1000)));
  // …and what the CRM says about its quota pauses the live calls too.
  const throttle = throttleWatch(ctx.env, tenant, id, ctx.defer);
  const started = Date.now();
  try {
    const signal = AbortSignal.timeout(connector.config.timeoutMs);
    const { result, cached } = await callConnector(connector, body.idContact ?? "", tenant, signal, ctx.env.ALLOW_PRIVATE_CRM_URLS === "true", throttle.observe, phone);
    const rules = "rules" in connector.config ? connector.config.rules : [];
    const found = cached.f ? ("found" as const) : ("notFound" as const);
    const matches = result.kind === "record" ? result.matches : result.kind === "reply" ? 1 : 0;
    const ruleInfo = cached.rule !== undefined ? { rule: cached.rule } : {};
    return {
      ok: true,
      connector: id,
      kind,
      result: found,
      decision: cached.d,
      ...ruleInfo,
      matches,
      ...(cached.id !== undefined ? { maskedCustomerId: maskId(cached.id) } : {}),
      fields: result.kind === "record" ? fieldsRead(result.record, rules) : {},
      ms: Date.now() - started,
      steps: [{ connector: id, result: found, cache: "BYPASS", decision: cached.d, ...ruleInfo, matches }],
    };
  } catch (e) {
    const reason = e instanceof CrmError ? e.code : "crm_error";
    throttle.failed(e);
    return { ok: false, connector: id, kind, reason, ms: Date.now() - started, steps: [{ connector: id, result: "error", cache: "BYPASS", reason }] };
  }
}
