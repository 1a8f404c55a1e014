import { CREDS } from "./credentials.js";
import { basicUser, customersFor, expectEqual, json, type Answer, type Ctx, type FakeKind, type FakeRequest } from "./common.js";
import { digitsOf, phoneMatches } from "./phone-book.js";
import { parseZendeskQuery } from "./query-syntax.js";

/**
 * Zendesk past the account's per-minute limit (API reference, Rate limits): 429 with
 * Retry-After in seconds, the account-wide headers at zero, and a plain-text body.
 */
export const throttled = (): Answer => ({
  status: 429,
  body: "Number of allowed API requests per minute exceeded",
  type: "text/plain",
  headers: { "retry-after": "1", "x-rate-limit": "200", "x-rate-limit-remaining": "0", "ratelimit-limit": "200", "ratelimit-remaining": "0", "ratelimit-reset": "1" },
});

/** Zendesk Support: GET /api/v2/users/search with external_id= or query=, Basic "{email}/token:{token}". */
export const zendeskFake: FakeKind = (req: FakeRequest, ctx: Ctx) => {
  if (req.path !== "/api/v2/users/search") return json(404, { error: "InvalidEndpoint", description: "Not found" });
  ctx.log.dataCalls++;
  expectEqual(ctx, "method", req.method, "GET");
  const auth = basicUser(req);
  if (ctx.scenario === "auth" || auth?.user !== `${CREDS.zendesk.email}/token` || auth.password !== CREDS.zendesk.apiToken) {
    return json(401, { error: "Couldn't authenticate you" });
  }
  let id: string;
  const externalId = req.query.get("external_id");
  const query = req.query.get("query");
  const phone = /^role:end-user phone:\*([0-9]+)$/.exec(query ?? "");
  if (phone) {
    // As Zendesk documents for callers: digits only, and the leading * matches the number
    // however it was stored ("+1 513.555.7611", "(513) 555-7611", …).
    ctx.log.decoded.push(phone[1]!);
    const disturbance = ctx.disturbance();
    if (disturbance) return disturbance;
    const users = phoneMatches((stored, field) => field === "phone" && digitsOf(stored).endsWith(phone[1]!)).map((c) => ({
      id: 9100 + c.seq,
      name: c.name,
      role: "end-user",
      phone: c.phone,
      external_id: c.id,
      user_fields: { customer_no: c.id, plan: c.plan, payment_status: c.paymentStatus, balance: c.balance },
    }));
    return json(200, { users, next_page: null, previous_page: null, count: users.length });
  }
  if (externalId !== null) {
    if (query !== null) ctx.violation("external_id and query together");
    id = externalId;
  } else {
    const parsed = parseZendeskQuery(query ?? "");
    if (!parsed.ok) {
      ctx.violation(`query: ${parsed.problem}`);
      return json(400, { error: "InvalidQuery" });
    }
    expectEqual(ctx, "user field", parsed.value.field, "customer_no");
    id = parsed.value.value;
  }
  ctx.log.decoded.push(id);
  const disturbance = ctx.disturbance();
  if (disturbance) return disturbance;
  const users = customersFor(ctx.scenario, id).map((c) => ({
    id: 9100 + c.seq,
    url: `https://example.zendesk.com/api/v2/users/${9100 + c.seq}.json`,
    name: c.name,
    email: `customer${c.seq}@example.com`,
    role: "end-user",
    external_id: c.id,
    active: true,
    user_fields: { customer_no: c.id, plan: c.plan, payment_status: c.paymentStatus, balance: c.balance },
    created_at: "2025-01-10T10:00:00Z",
    updated_at: "2026-03-01T09:30:00Z",
  }));
  return json(200, { users, next_page: null, previous_page: null, count: users.length });
};
