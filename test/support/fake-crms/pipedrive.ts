import { CREDS } from "./credentials.js";
import { customersFor, expectEqual, json, type Answer, type Ctx, type FakeKind, type FakeRequest } from "./common.js";
import { phoneMatches } from "./phone-book.js";

// Pipedrive documents no formatting-blind phone match: exact_match compares the stored text (case aside).
const PHONE_PERSON_BASE = 800;

const unauthorized = json(401, { success: false, error: "unauthorized access", errorCode: 401, error_info: "Please check developers.pipedrive.com" });
const PERSON_BASE = 700;

function person(id: string, seq: number, ctx: Ctx) {
  const c = customersFor(ctx.scenario === "several" ? "several" : "found", id)[seq - 1]!;
  return {
    id: PERSON_BASE + seq,
    name: c.name,
    owner_id: 1,
    org_id: null,
    add_time: "2025-01-10T10:00:00Z",
    update_time: "2026-03-01T09:30:00Z",
    emails: [{ value: `customer${seq}@example.com`, primary: true, label: "work" }],
    phones: [],
    is_deleted: false,
    visible_to: 3,
    custom_fields: { [CREDS.pipedrive.idField]: c.id, [CREDS.pipedrive.planField]: c.plan, [CREDS.pipedrive.paymentField]: c.paymentStatus },
  };
}

/**
 * Pipedrive past the Search API's 10 requests per 2 s (Rate limiting): 429 with its usual
 * error body and the x-ratelimit-* headers, the remaining at zero and the reset in seconds.
 */
export const throttled = (): Answer =>
  json(429, { success: false, error: "Request over limit", errorCode: 429, error_info: "Please check developers.pipedrive.com" }, { "x-ratelimit-limit": "10", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "1" });

/** Pipedrive API v2: GET /api/v2/persons/search (exact_match on custom fields), then GET /api/v2/persons/{id}. */
export const pipedriveFake: FakeKind = (req: FakeRequest, ctx: Ctx) => {
  const ok = req.headers["x-api-token"] === CREDS.pipedrive.apiToken && ctx.scenario !== "auth";
  if (req.path === "/api/v2/persons/search") {
    ctx.log.dataCalls++;
    expectEqual(ctx, "method", req.method, "GET");
    if (!ok) return unauthorized;
    expectEqual(ctx, "exact_match", req.query.get("exact_match"), "true");
    const term = req.query.get("term");
    if (term === null) return json(400, { success: false, error: "term is required" });
    if (req.query.get("fields") === "phone") {
      ctx.log.decoded.push(term);
      const disturbance = ctx.disturbance();
      if (disturbance) return disturbance;
      const found = phoneMatches((stored) => stored.toLowerCase() === term.toLowerCase());
      const items = found.map((c) => ({ result_score: 1, item: { id: PHONE_PERSON_BASE + c.seq, type: "person", name: c.name, phones: [c.phone ?? c.mobile], emails: [], custom_fields: [] } }));
      return json(200, { success: true, data: { items: items.slice(0, Number(req.query.get("limit") ?? 100)) }, additional_data: { next_cursor: null } });
    }
    expectEqual(ctx, "fields", req.query.get("fields"), "custom_fields");
    ctx.log.decoded.push(term);
    const disturbance = ctx.disturbance();
    if (disturbance) return disturbance;
    const items = customersFor(ctx.scenario, term).map((c) => ({
      result_score: 1.5,
      item: { id: PERSON_BASE + c.seq, type: "person", name: c.name, phones: [], emails: [], visible_to: 3, owner: { id: 1 }, organization: null, custom_fields: [c.id], notes: [] },
    }));
    // The ids searched for are remembered so the person read can serve the same customer.
    lastTerm.set(ctx.log, term);
    return json(200, { success: true, data: { items }, additional_data: { next_cursor: null } });
  }
  const m = /^\/api\/v2\/persons\/(\d+)$/.exec(req.path);
  if (!m) return json(404, { success: false, error: "Not found", errorCode: 404 });
  ctx.log.dataCalls++;
  expectEqual(ctx, "method", req.method, "GET");
  if (!ok) return unauthorized;
  if (Number(m[1]) > PHONE_PERSON_BASE) {
    const c = phoneMatches(() => true).find((p) => PHONE_PERSON_BASE + p.seq === Number(m[1]));
    if (!c || !ok) return c ? unauthorized : json(404, { success: false, error: "Person not found", errorCode: 404 });
    return json(200, {
      success: true,
      data: {
        id: PHONE_PERSON_BASE + c.seq,
        name: c.name,
        phones: [c.phone, c.mobile].filter((v) => v !== null).map((value, i) => ({ value, primary: i === 0, label: i === 0 ? "work" : "mobile" })),
        custom_fields: { [CREDS.pipedrive.idField]: c.id, [CREDS.pipedrive.planField]: c.plan, [CREDS.pipedrive.paymentField]: c.paymentStatus },
      },
    });
  }
  const seq = Number(m[1]) - PERSON_BASE;
  const term = lastTerm.get(ctx.log);
  if (term === undefined || seq < 1 || seq > 2) return json(404, { success: false, error: "Person not found", errorCode: 404 });
  const disturbance = ctx.disturbance();
  if (disturbance) return disturbance;
  return json(200, { success: true, data: person(term, seq, ctx) });
};

const lastTerm = new WeakMap<object, string>();
