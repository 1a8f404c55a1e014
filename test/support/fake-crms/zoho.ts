import { CREDS } from "./credentials.js";
import { bearer, customersFor, expectEqual, json, type Answer, type Ctx, type FakeKind, type FakeRequest } from "./common.js";
import { digitsOf, phoneMatches } from "./phone-book.js";
import { parseZohoCriteria } from "./query-syntax.js";

/**
 * Zoho CRM past its concurrency limit (API limits: concurrency by edition): 429 with its usual
 * error shape, code TOO_MANY_REQUESTS, and no Retry-After.
 */
export const throttled = (): Answer => json(429, { code: "TOO_MANY_REQUESTS", details: {}, message: "The number of concurrent requests has exceeded the limit.", status: "error" });

/** Zoho: accounts server refresh-token grant, and CRM v6 search by criteria (204 when nothing matches). */
export const zohoFake: FakeKind = (req: FakeRequest, ctx: Ctx) => {
  if (req.path === "/oauth/v2/token") {
    ctx.log.tokenCalls++;
    expectEqual(ctx, "token method", req.method, "POST");
    // Zoho documents these as parameters of the POST; accept them in the query or a form body.
    const p = new URLSearchParams(req.body);
    for (const [k, v] of req.query) if (!p.has(k)) p.set(k, v);
    expectEqual(ctx, "grant_type", p.get("grant_type"), "refresh_token");
    // Zoho answers a bad refresh token with HTTP 200 and an error field.
    if (ctx.scenario === "auth" || p.get("refresh_token") !== CREDS.zoho.refreshToken || p.get("client_id") !== CREDS.zoho.clientId || p.get("client_secret") !== CREDS.zoho.clientSecret) {
      return json(200, { error: "invalid_code" });
    }
    return json(200, { access_token: ctx.issueToken(), api_domain: "https://www.zohoapis.com", token_type: "Bearer", expires_in: 3600 });
  }
  const m = /^\/crm\/v6\/([A-Za-z0-9_]+)\/search$/.exec(req.path);
  if (!m) return json(404, { code: "INVALID_URL_PATTERN", details: {}, message: "Please check if the URL trying to access is a correct one", status: "error" });
  ctx.log.dataCalls++;
  expectEqual(ctx, "method", req.method, "GET");
  expectEqual(ctx, "module", m[1], "Contacts");
  if (!ctx.tokenAccepted(bearer(req, "Zoho-oauthtoken"))) return json(401, { code: "INVALID_TOKEN", details: {}, message: "invalid oauth token", status: "error" });
  const phone = req.query.get("phone");
  if (phone !== null) {
    // Zoho's `phone` search: every phone field of the module. The fake compares digits, so a
    // number stored with its country code matches however it is spaced; a national one does not.
    if (req.query.has("criteria")) ctx.violation("phone and criteria together");
    ctx.log.decoded.push(phone);
    const disturbance = ctx.disturbance();
    if (disturbance) return disturbance;
    const found = phoneMatches((stored) => digitsOf(stored) === digitsOf(phone));
    if (found.length === 0) return { status: 204 };
    const data = found.map((c) => ({ id: `4876876000000${c.seq}`, Customer_No: c.id, Full_Name: c.name, Plan: c.plan, Payment_Status: c.paymentStatus, Phone: c.phone, Mobile: c.mobile }));
    return json(200, { data: data.slice(0, Number(req.query.get("per_page") ?? 200)), info: { per_page: Number(req.query.get("per_page") ?? 200), count: data.length, page: 1, more_records: data.length > Number(req.query.get("per_page") ?? 200) } });
  }
  const parsed = parseZohoCriteria(req.query.get("criteria") ?? "");
  if (!parsed.ok) {
    ctx.violation(`criteria: ${parsed.problem}`);
    return json(400, { code: "INVALID_QUERY", details: {}, message: "invalid query formed", status: "error" });
  }
  expectEqual(ctx, "criteria field", parsed.value.field, "Customer_No");
  ctx.log.decoded.push(parsed.value.value);
  const disturbance = ctx.disturbance();
  if (disturbance) return disturbance;
  const customers = customersFor(ctx.scenario, parsed.value.value);
  if (customers.length === 0) return { status: 204 };
  const data = customers.map((c) => ({
    id: `4876876000000${c.seq}`,
    Customer_No: c.id,
    Full_Name: c.name,
    Plan: c.plan,
    Payment_Status: c.paymentStatus,
    Balance: c.balance,
    Owner: { name: "Owner", id: "4876876000000000001", email: "owner@example.com" },
  }));
  return json(200, { data, info: { per_page: 200, count: data.length, page: 1, more_records: false } });
};
