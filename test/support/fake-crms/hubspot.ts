import { CREDS } from "./credentials.js";
import { bearer, customersFor, expectEqual, json, type Answer, type Ctx, type Customer, type FakeKind, type FakeRequest } from "./common.js";
import { nationalOf, phoneMatches } from "./phone-book.js";

// phone/mobilephone compare the stored text; the calculated searchable ones hold its national digits.
const PHONE_PROPS: Record<string, { field: "phone" | "mobile"; calculated: boolean }> = {
  phone: { field: "phone", calculated: false },
  mobilephone: { field: "mobile", calculated: false },
  hs_searchable_calculated_phone_number: { field: "phone", calculated: true },
  hs_searchable_calculated_mobile_number: { field: "mobile", calculated: true },
};

/**
 * HubSpot past its per-second limit (developers.hubspot.com, API usage guidelines): 429 with
 * the RATE_LIMIT error body naming the policy hit, no Retry-After, and the rate-limit headers
 * with the second's allowance at zero (the rolling 10 s one not yet).
 */
export const throttled = (): Answer =>
  json(
    429,
    { status: "error", message: "You have reached your secondly limit.", errorType: "RATE_LIMIT", correlationId: crypto.randomUUID(), policyName: "SECONDLY", groupName: "publicapi:crm:search:private-app" },
    {
      "x-hubspot-ratelimit-interval-milliseconds": "10000",
      "x-hubspot-ratelimit-max": "100",
      "x-hubspot-ratelimit-remaining": "96",
      "x-hubspot-ratelimit-secondly": "4",
      "x-hubspot-ratelimit-secondly-remaining": "0",
    },
  );

/** HubSpot CRM v3: POST /crm/v3/objects/{object}/search with filterGroups; private-app bearer token. */
export const hubspotFake: FakeKind = (req: FakeRequest, ctx: Ctx) => {
  const m = /^\/crm\/v3\/objects\/([^/]+)\/search$/.exec(req.path);
  if (!m) return json(404, { status: "error", message: "no such path", category: "OBJECT_NOT_FOUND" });
  ctx.log.dataCalls++;
  expectEqual(ctx, "method", req.method, "POST");
  expectEqual(ctx, "content-type", req.headers["content-type"]?.split(";")[0], "application/json");
  if (ctx.scenario === "auth" || bearer(req) !== CREDS.hubspot.accessToken) {
    return json(401, { status: "error", message: "Authentication credentials not found.", category: "INVALID_AUTHENTICATION" });
  }
  let body: { filterGroups?: Array<{ filters?: Array<{ propertyName?: unknown; operator?: unknown; value?: unknown }> }>; properties?: unknown; limit?: unknown };
  try {
    body = JSON.parse(req.body);
  } catch {
    return json(400, { status: "error", message: "Invalid input JSON", category: "VALIDATION_ERROR" });
  }
  const groups = body.filterGroups ?? [];
  if (groups.length > 5) ctx.violation("HubSpot takes at most 5 filter groups");
  const byPhone = groups.some((g) => (g.filters ?? []).some((f) => typeof f.propertyName === "string" && f.propertyName in PHONE_PROPS));
  let phoneCustomers: Array<Customer & { phone?: string | null; mobile?: string | null }> | null = null;
  if (byPhone) {
    const wanted: Array<{ prop: (typeof PHONE_PROPS)[string]; value: string }> = [];
    for (const g of groups) {
      const [f, ...more] = g.filters ?? [];
      if (!f || more.length) ctx.violation("phone search: one filter per group (groups are ORed)");
      const prop = PHONE_PROPS[String(f?.propertyName)];
      if (!prop || f?.operator !== "EQ" || typeof f.value !== "string") {
        ctx.violation(`phone search filter ${JSON.stringify(f)}`);
        continue;
      }
      wanted.push({ prop, value: f.value });
      ctx.log.decoded.push(f.value);
    }
    phoneCustomers = phoneMatches((stored, field) => wanted.some((w) => w.prop.field === field && (w.prop.calculated ? nationalOf(stored) : stored) === w.value));
  }
  const filters = byPhone ? [{ propertyName: "customer_id", operator: "EQ", value: "" }] : (groups[0]?.filters ?? []);
  if (!byPhone && (groups.length !== 1 || filters.length !== 1)) ctx.violation("expected exactly one filter group with one filter");
  const f = filters[0] ?? {};
  expectEqual(ctx, "operator", f.operator, "EQ");
  expectEqual(ctx, "propertyName", f.propertyName, "customer_id");
  if (typeof f.value !== "string") return json(400, { status: "error", message: "value must be a string", category: "VALIDATION_ERROR" });
  if (!byPhone) ctx.log.decoded.push(f.value);
  if (!Array.isArray(body.properties)) ctx.violation("properties should be listed, HubSpot returns only defaults otherwise");
  const disturbance = ctx.disturbance();
  if (disturbance) return disturbance;
  const customers: Array<Customer & { phone?: string | null; mobile?: string | null }> = phoneCustomers ?? customersFor(ctx.scenario, f.value);
  const requested = new Set(Array.isArray(body.properties) ? body.properties.map(String) : []);
  const results = customers.map((c) => ({
    id: String(51000 + c.seq),
    properties: {
      customer_id: c.id,
      firstname: "Customer",
      lastname: String(c.seq),
      plan: c.plan,
      // Like HubSpot's search: properties beyond the defaults only when asked for.
      ...(requested.has("phone") ? { phone: c.phone ?? null } : {}),
      ...(requested.has("mobilephone") ? { mobilephone: c.mobile ?? null } : {}),
      payment_status: c.paymentStatus,
      balance: String(c.balance),
      hs_object_id: String(51000 + c.seq),
      createdate: "2025-01-10T10:00:00.000Z",
      lastmodifieddate: "2026-03-01T09:30:00.000Z",
    },
    createdAt: "2025-01-10T10:00:00.000Z",
    updatedAt: "2026-03-01T09:30:00.000Z",
    archived: false,
  }));
  return json(200, { total: results.length, results: results.slice(0, Number(body.limit ?? 10)) });
};
