import { CREDS } from "./credentials.js";
import { basicUser, customersFor, expectEqual, json, type Answer, type Ctx, type FakeKind, type FakeRequest } from "./common.js";
import { phoneMatches } from "./phone-book.js";
import { parseFreshdeskQuery } from "./query-syntax.js";

/**
 * Freshdesk past the account's rate limit (API v2, Rate limit): 429 with Retry-After in
 * seconds and the X-Ratelimit-* headers, the remaining at zero.
 */
export const throttled = (): Answer => ({
  status: 429,
  headers: { "retry-after": "1", "x-ratelimit-total": "200", "x-ratelimit-remaining": "0", "x-ratelimit-used-currentrequest": "1" },
});

/** Freshdesk API v2: GET /api/v2/search/contacts?query="field:'value'", Basic "{apiKey}:X". */
export const freshdeskFake: FakeKind = (req: FakeRequest, ctx: Ctx) => {
  if (req.path !== "/api/v2/search/contacts") return json(404, { code: "invalid_url", message: "not found" });
  ctx.log.dataCalls++;
  expectEqual(ctx, "method", req.method, "GET");
  const auth = basicUser(req);
  if (ctx.scenario === "auth" || auth?.user !== CREDS.freshdesk.apiKey) {
    return json(401, { code: "invalid_credentials", message: "You have to be logged in to perform this action." });
  }
  const raw = req.query.get("query") ?? "";
  if (/^"(phone|mobile):'/.test(raw)) {
    // Freshdesk's filter compares phone and mobile as stored: the exact text, formatting included.
    const terms = /^"((?:phone|mobile):'[^'"\\]*'(?: OR (?:phone|mobile):'[^'"\\]*')*)"$/.exec(raw);
    if (!terms) {
      ctx.violation(`query: ${raw}`);
      return json(400, { description: "Validation failed", errors: [{ field: "query", message: "Given query is invalid", code: "invalid_value" }] });
    }
    const wanted = [...terms[1]!.matchAll(/(phone|mobile):'([^']*)'/g)].map((t) => ({ field: t[1] as "phone" | "mobile", value: t[2]! }));
    ctx.log.decoded.push(...wanted.map((w) => w.value));
    const disturbance = ctx.disturbance();
    if (disturbance) return disturbance;
    const results = phoneMatches((stored, field) => wanted.some((w) => w.field === field && w.value === stored)).map((c) => ({
      id: 43000 + c.seq,
      name: c.name,
      phone: c.phone,
      mobile: c.mobile,
      custom_fields: { customer_no: c.id, plan: c.plan, payment_status: c.paymentStatus, balance: c.balance },
    }));
    return json(200, { results, total: results.length });
  }
  const parsed = parseFreshdeskQuery(raw);
  if (!parsed.ok) {
    ctx.violation(`query: ${parsed.problem}`);
    return json(400, { description: "Validation failed", errors: [{ field: "query", message: "Given query is invalid", code: "invalid_value" }] });
  }
  expectEqual(ctx, "query field", parsed.value.field, "customer_no");
  ctx.log.decoded.push(parsed.value.value);
  const disturbance = ctx.disturbance();
  if (disturbance) return disturbance;
  const results = customersFor(ctx.scenario, parsed.value.value).map((c) => ({
    id: 43000 + c.seq,
    name: c.name,
    email: `customer${c.seq}@example.com`,
    phone: null,
    active: true,
    custom_fields: { customer_no: c.id, plan: c.plan, payment_status: c.paymentStatus, balance: c.balance },
    created_at: "2025-01-10T10:00:00Z",
    updated_at: "2026-03-01T09:30:00Z",
  }));
  return json(200, { results, total: results.length });
};
