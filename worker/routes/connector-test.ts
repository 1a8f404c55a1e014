import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import { customerId, maskId } from "../../shared/ids.js";
import { countryCode, MAX_CALLER_NUMBER_LENGTH, normalizeCallerNumber, phoneQuery, type PhoneQuery } from "../../shared/phone.js";
import type { Rule } from "../../shared/rules.js";
import { CrmError } from "../connectors/errors.js";
import { readPath } from "../connectors/record.js";
import { rulePaths } from "../connectors/rule-paths.js";
import type { AppEnv } from "../env.js";
import { requireAuth } from "../http/auth.js";
import { documented, jsonBody, ok, security, tenantParam } from "../http/documented.js";
import { ApiError, notFound } from "../http/errors.js";
import { callConnector } from "../identify/lookup-customer.js";
import { getConnector, sealingKeys, validationError } from "../store/connectors.js";
import { readJson } from "./read-json.js";

const params = tenantParam.extend({ connector: z.string() });
/** An id, or a caller number (read in `defaultCountry` when national) to try the phone lookup. */
const testRequest = z
  .object({ idContact: z.string().max(64).optional(), callerNumber: z.string().max(MAX_CALLER_NUMBER_LENGTH).optional(), defaultCountry: countryCode.optional() })
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
const testReply = z.union([
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

export function connectorTestRoutes(app: OpenAPIHono<AppEnv>) {
  documented(
    app,
    {
      method: "post",
      path: "/v1/tenants/{tenant}/connectors/{connector}/test",
      summary: "Run a connector's lookup for one id, without the cache, and show how its rules decided",
      description:
        "Answers 200 whether or not the CRM answered: { ok: false, reason } when it failed. The record is never returned whole: only the fields the rules read. With callerNumber instead of idContact, runs the phone lookup (400 caller_number_unusable for a withheld or invalid number) and shows the matched customer's id masked.",
      security,
      request: { params, ...jsonBody(testRequest) },
      responses: { 200: ok(testReply, "What the lookup found and decided") },
    },
    requireAuth(["admin"]),
    async (c) => {
      const tenant = c.req.param("tenant")!;
      const id = c.req.param("connector")!;
      const body = testRequest.safeParse(await readJson(c.req.raw));
      if (!body.success) throw validationError(body.error);
      let phone: PhoneQuery | undefined;
      if (body.data.callerNumber !== undefined) {
        const n = normalizeCallerNumber(body.data.callerNumber, body.data.defaultCountry);
        if (!n.ok) throw new ApiError(400, "caller_number_unusable", "callerNumber is withheld, invalid, or national without a defaultCountry");
        phone = phoneQuery(n.e164);
      } else if (!customerId.safeParse(body.data.idContact).success) throw new ApiError(400, "invalid_id", "idContact must be 1–30 digits");
      const connector = await getConnector(c.env.DB, sealingKeys(c.env), tenant, id);
      if (!connector) throw notFound("connector");
      const kind = connector.config.kind;
      const started = Date.now();
      try {
        const signal = AbortSignal.timeout(connector.config.timeoutMs);
        const { result, cached } = await callConnector(connector, body.data.idContact ?? "", tenant, signal, c.env.ALLOW_PRIVATE_CRM_URLS === "true", undefined, phone);
        const rules = "rules" in connector.config ? connector.config.rules : [];
        const found = cached.f ? ("found" as const) : ("notFound" as const);
        const matches = result.kind === "record" ? result.matches : result.kind === "reply" ? 1 : 0;
        const ruleInfo = cached.rule !== undefined ? { rule: cached.rule } : {};
        return c.json({
          ok: true as const,
          connector: id,
          kind,
          result: found,
          decision: cached.d,
          ...ruleInfo,
          matches,
          ...(cached.id !== undefined ? { maskedCustomerId: maskId(cached.id) } : {}),
          fields: result.kind === "record" ? fieldsRead(result.record, rules) : {},
          ms: Date.now() - started,
          steps: [{ connector: id, result: found, cache: "BYPASS" as const, decision: cached.d, ...ruleInfo, matches }],
        });
      } catch (e) {
        // Only the stable code leaves: a CRM's own error text may quote credentials or data.
        const reason = e instanceof CrmError ? e.code : "crm_error";
        return c.json({ ok: false as const, connector: id, kind, reason, ms: Date.now() - started, steps: [{ connector: id, result: "error" as const, cache: "BYPASS" as const, reason }] });
      }
    },
  );
}
