import { CREDS } from "./credentials.js";
import { bearer, customersFor, expectEqual, json, type Ctx, type FakeKind, type FakeRequest } from "./common.js";

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
  const filters = groups[0]?.filters ?? [];
  if (groups.length !== 1 || filters.length !== 1) ctx.violation("expected exactly one filter group with one filter");
  const f = filters[0] ?? {};
  expectEqual(ctx, "operator", f.operator, "EQ");
  expectEqual(ctx, "propertyName", f.propertyName, "customer_id");
  if (typeof f.value !== "string") return json(400, { status: "error", message: "value must be a string", category: "VALIDATION_ERROR" });
  ctx.log.decoded.push(f.value);
  if (!Array.isArray(body.properties)) ctx.violation("properties should be listed, HubSpot returns only defaults otherwise");
  const disturbance = ctx.disturbance();
  if (disturbance) return disturbance;
  const customers = customersFor(ctx.scenario, f.value);
  const results = customers.map((c) => ({
    id: String(51000 + c.seq),
    properties: {
      customer_id: c.id,
      firstname: "Customer",
      lastname: String(c.seq),
      plan: c.plan,
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
