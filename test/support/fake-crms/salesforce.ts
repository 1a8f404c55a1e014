import { CREDS } from "./credentials.js";
import { bearer, customersFor, expectEqual, json, tokenForm, type Answer, type Ctx, type FakeKind, type FakeRequest } from "./common.js";
import { digitsOf, phoneMatches } from "./phone-book.js";
import { parseSoqlEquality } from "./query-syntax.js";

const invalidSession = [{ message: "Session expired or invalid", errorCode: "INVALID_SESSION_ID" }];

/** Every REST reply carries the org's rolling 24 h API use against its allocation. */
const limitInfo = { "sforce-limit-info": "api-usage=120/15000" };

/**
 * Salesforce refusing a call for its request limits (API Request Limits and Allocations):
 * HTTP 403, REQUEST_LIMIT_EXCEEDED in the usual error array, no Retry-After. This is the
 * concurrent long-running requests limit, so the day's allocation is not used up.
 */
export const throttled = (): Answer => json(403, [{ message: "ConcurrentPerOrgLongTxn Limit exceeded.", errorCode: "REQUEST_LIMIT_EXCEEDED" }], limitInfo);

/** Salesforce: OAuth 2.0 token endpoint (client credentials / refresh token) and REST `query` with SOQL. */
export const salesforceFake: FakeKind = (req: FakeRequest, ctx: Ctx) => {
  if (req.path === "/services/oauth2/token") {
    ctx.log.tokenCalls++;
    const form = tokenForm(req, ctx);
    const grant = form.get("grant_type");
    if (grant !== "client_credentials" && grant !== "refresh_token") ctx.violation(`grant_type ${grant}`);
    if (grant === "refresh_token") expectEqual(ctx, "refresh_token", form.get("refresh_token"), CREDS.salesforce.refreshToken);
    if (ctx.scenario === "auth" || form.get("client_id") !== CREDS.salesforce.clientId || form.get("client_secret") !== CREDS.salesforce.clientSecret) {
      return json(400, { error: "invalid_client", error_description: "invalid client credentials" });
    }
    // Salesforce's token reply has no expires_in: the session timeout decides.
    return json(200, {
      access_token: ctx.issueToken(),
      signature: "c2lnbmF0dXJl",
      scope: "api",
      instance_url: "https://example.my.salesforce.com",
      id: "https://login.salesforce.com/id/00D000000000001/005000000000001",
      token_type: "Bearer",
      issued_at: String(Date.now()),
    });
  }
  const s = /^\/services\/data\/(v\d+\.\d)\/search$/.exec(req.path);
  if (s) return soslPhoneSearch(req, ctx);
  const m = /^\/services\/data\/(v\d+\.\d)\/query$/.exec(req.path);
  if (!m) return json(404, [{ errorCode: "NOT_FOUND", message: "The requested resource does not exist" }]);
  ctx.log.dataCalls++;
  expectEqual(ctx, "method", req.method, "GET");
  expectEqual(ctx, "api version", m[1], "v60.0");
  const token = bearer(req);
  const accepted = token === "static-sf-token" || ctx.tokenAccepted(token);
  if (!accepted || ctx.scenario === "auth") return json(401, invalidSession);
  const q = req.query.get("q") ?? "";
  const parsed = parseSoqlEquality(q);
  if (!parsed.ok) {
    ctx.violation(`SOQL: ${parsed.problem}`);
    return json(400, [{ message: "unexpected token", errorCode: "MALFORMED_QUERY" }]);
  }
  expectEqual(ctx, "sobject", parsed.value.sobject, "Contact");
  expectEqual(ctx, "id field", parsed.value.field, "Customer_Number__c");
  ctx.log.decoded.push(parsed.value.value);
  const disturbance = ctx.disturbance();
  if (disturbance) return disturbance;
  const records = customersFor(ctx.scenario, parsed.value.value).map((c) => {
    const id = `003${String(c.seq).padStart(15, "0")}`;
    const all: Record<string, unknown> = {
      Id: id,
      Customer_Number__c: c.id,
      Name: c.name,
      Plan__c: c.plan,
      Payment_Status__c: c.paymentStatus,
      Balance__c: c.balance,
    };
    // SOQL returns exactly the selected fields, plus the attributes block.
    const out: Record<string, unknown> = { attributes: { type: "Contact", url: `/services/data/v60.0/sobjects/Contact/${id}` } };
    for (const f of parsed.value.fields) if (f in all) out[f] = all[f];
    return out;
  });
  return json(200, { totalSize: records.length, done: true, records: records.slice(0, 2) }, limitInfo);
};

/**
 * REST `search` with SOSL `FIND {…} IN PHONE FIELDS RETURNING Contact(…) LIMIT n`. Salesforce's
 * phone-field search compares digits and ignores formatting, so a national number finds
 * "(+34) 913 456 789" and "913456789" alike: the fake matches stored digits ending in the term.
 */
function soslPhoneSearch(req: FakeRequest, ctx: Ctx) {
  ctx.log.dataCalls++;
  expectEqual(ctx, "method", req.method, "GET");
  const token = bearer(req);
  if (!(token === "static-sf-token" || ctx.tokenAccepted(token)) || ctx.scenario === "auth") return json(401, invalidSession);
  const q = req.query.get("q") ?? "";
  const m = /^FIND \{((?:\\.|[^\\{}])*)\} IN PHONE FIELDS RETURNING Contact\(([A-Za-z0-9_., ]+)\) LIMIT (\d+)$/.exec(q);
  if (!m) {
    ctx.violation(`SOSL: ${q}`);
    return json(400, [{ message: "unexpected token", errorCode: "MALFORMED_SEARCH" }]);
  }
  const term = m[1]!.replace(/\\(.)/g, "$1");
  ctx.log.decoded.push(term);
  const disturbance = ctx.disturbance();
  if (disturbance) return disturbance;
  const fields = m[2]!.split(",").map((f) => f.trim());
  const records = phoneMatches((stored) => digitsOf(term).length > 0 && digitsOf(stored).endsWith(digitsOf(term))).map((c) => {
    const id = `003${String(c.seq).padStart(15, "0")}`;
    const all: Record<string, unknown> = { Id: id, Customer_Number__c: c.id, Name: c.name, Plan__c: c.plan, Payment_Status__c: c.paymentStatus, Balance__c: c.balance, Phone: c.phone, MobilePhone: c.mobile };
    const out: Record<string, unknown> = { attributes: { type: "Contact", url: `/services/data/v60.0/sobjects/Contact/${id}` } };
    for (const f of fields) if (f in all) out[f] = all[f];
    return out;
  });
  return json(200, { searchRecords: records.slice(0, Number(m[3])) });
}
