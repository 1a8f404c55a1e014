import { CREDS } from "./credentials.js";
import { bearer, customersFor, expectEqual, json, tokenForm, type Answer, type Ctx, type FakeKind, type FakeRequest } from "./common.js";
import { phoneMatches } from "./phone-book.js";
import { parseODataEq } from "./query-syntax.js";

/**
 * Dataverse's service protection limit on the number of requests (Service protection API
 * limits): 429 with Retry-After in seconds and the Web API error carrying the limit's hex code.
 */
export const throttled = (): Answer =>
  json(
    429,
    { error: { code: "0x80072322", message: "Number of requests exceeded the limit of 6000 over time window of 300 seconds." } },
    { "retry-after": "1", "x-ms-ratelimit-burst-remaining-xrm-requests": "0", "x-ms-ratelimit-time-remaining-xrm-requests": "1195000" },
  );

/** Microsoft identity platform client-credentials token, and the Dataverse Web API with OData $filter. */
export const dynamics365Fake: FakeKind = (req: FakeRequest, ctx: Ctx) => {
  if (/^\/[^/]+\/oauth2\/v2\.0\/token$/.test(req.path)) {
    ctx.log.tokenCalls++;
    const form = tokenForm(req, ctx);
    expectEqual(ctx, "grant_type", form.get("grant_type"), "client_credentials");
    if (!(form.get("scope") ?? "").endsWith("/.default")) ctx.violation(`scope ${form.get("scope")} is not <resource>/.default`);
    if (ctx.scenario === "auth" || form.get("client_id") !== CREDS.dynamics365.clientId || form.get("client_secret") !== CREDS.dynamics365.clientSecret) {
      return json(401, { error: "invalid_client", error_description: "AADSTS7000215: Invalid client secret provided.", error_codes: [7000215] });
    }
    return json(200, { token_type: "Bearer", expires_in: 3599, ext_expires_in: 3599, access_token: ctx.issueToken() });
  }
  const m = /^\/api\/data\/(v\d+\.\d+)\/([A-Za-z_]+)$/.exec(req.path);
  if (!m) return json(404, { error: { code: "0x80060888", message: "Resource not found for the segment" } });
  ctx.log.dataCalls++;
  expectEqual(ctx, "method", req.method, "GET");
  expectEqual(ctx, "api version", m[1], "v9.2");
  expectEqual(ctx, "entity set", m[2], "contacts");
  expectEqual(ctx, "OData-Version", req.headers["odata-version"], "4.0");
  expectEqual(ctx, "OData-MaxVersion", req.headers["odata-maxversion"], "4.0");
  const filter = req.query.get("$filter") ?? "";
  const byPhone = /^(telephone1|mobilephone) eq '/.test(filter);
  expectEqual(ctx, "$top", req.query.get("$top"), byPhone ? "2" : "1");
  if (!ctx.tokenAccepted(bearer(req))) return json(401, { error: { code: "0x80072560", message: "The user is not a member of the organization." } });
  if (byPhone) {
    // OData eq compares the stored text exactly: formatting included.
    if (!/^(?:telephone1|mobilephone) eq '[^']*'(?: or (?:telephone1|mobilephone) eq '[^']*')*$/.test(filter)) {
      ctx.violation(`$filter: ${filter}`);
      return json(400, { error: { code: "0x80060888", message: "Syntax error in $filter" } });
    }
    const wanted = [...filter.matchAll(/(telephone1|mobilephone) eq '([^']*)'/g)].map((t) => ({ field: t[1] === "telephone1" ? "phone" : "mobile", value: t[2]! }));
    ctx.log.decoded.push(...wanted.map((w) => w.value));
    const disturbance = ctx.disturbance();
    if (disturbance) return disturbance;
    const value = phoneMatches((stored, field) => wanted.some((w) => w.field === field && w.value === stored)).map((c) => ({
      contactid: `00000000-0000-0000-0000-00000000000${c.seq}`,
      fullname: c.name,
      new_customerno: c.id,
      new_plan: c.plan,
      new_paymentstatus: c.paymentStatus,
      telephone1: c.phone,
      mobilephone: c.mobile,
    }));
    return json(200, { "@odata.context": "https://example.crm.dynamics.com/api/data/v9.2/$metadata#contacts", "@odata.count": value.length, value: value.slice(0, 2) });
  }
  const parsed = parseODataEq(req.query.get("$filter") ?? "");
  if (!parsed.ok) {
    ctx.violation(`$filter: ${parsed.problem}`);
    return json(400, { error: { code: "0x80060888", message: "Syntax error in $filter" } });
  }
  expectEqual(ctx, "filter field", parsed.value.field, "new_customerno");
  ctx.log.decoded.push(parsed.value.value);
  const disturbance = ctx.disturbance();
  if (disturbance) return disturbance;
  const value = customersFor(ctx.scenario, parsed.value.value).map((c) => ({
    "@odata.etag": `W/"${1000 + c.seq}"`,
    contactid: `00000000-0000-0000-0000-00000000000${c.seq}`,
    fullname: c.name,
    new_customerno: c.id,
    new_plan: c.plan,
    new_paymentstatus: c.paymentStatus,
    new_balance: c.balance,
  }));
  const body: Record<string, unknown> = { "@odata.context": "https://example.crm.dynamics.com/api/data/v9.2/$metadata#contacts" };
  if (req.query.get("$count") === "true") body["@odata.count"] = value.length;
  body.value = value.slice(0, 1);
  return json(200, body);
};
