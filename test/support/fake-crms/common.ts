/** What every fake CRM shares: the request as seen, the scenario, the answer, the customer facts. */

export type FakeRequest = {
  method: string;
  /** The CRM path, after /u/<unique>/<kind>/<scenario>. */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: string;
};

export type Answer = { status: number; body?: unknown; type?: string; headers?: Record<string, string> } | "hang";

/**
 * Scenarios, chosen by the URL:
 *   found | several | notfound       one record, two records, none
 *   auth                             credentials refused (token endpoint for OAuth kinds, else 401)
 *   expired                          OAuth: the first access token issued is refused (revoked early)
 *   ratelimit                        the first data call is refused the way that CRM throttles
 *                                    (each kind's `throttled`: 429 or Salesforce's 403, its headers)
 *   garbage | badshape               200 with HTML, 200 with JSON of another shape
 *   gone                             404 from the data endpoint
 *   hang                             never answers
 */
export type Scenario = "found" | "several" | "notfound" | "auth" | "expired" | "ratelimit" | "garbage" | "badshape" | "gone" | "hang";

export type Log = {
  requests: Array<{ method: string; path: string; query: Record<string, string>; headers: Record<string, string>; body: string }>;
  /** Where a request did not look the way the CRM's documentation says. */
  violations: string[];
  /** Customer ids decoded out of the queries. */
  decoded: string[];
  tokenCalls: number;
  dataCalls: number;
  /** Access tokens issued, in order. */
  issued: string[];
};

/** What the fakes know about a customer, derived from the id so tests can predict it. */
export type Customer = { id: string; plan: "gold" | "bronze"; paymentStatus: "current" | "overdue"; balance: number; name: string; seq: number };

export function customerFor(id: string, seq = 1, plan?: Customer["plan"]): Customer {
  const last = Number(id.at(-1));
  return {
    id,
    plan: plan ?? (last <= 4 ? "gold" : "bronze"),
    paymentStatus: last % 2 === 0 ? "current" : "overdue",
    balance: Number.isNaN(last) ? 0 : last * 10,
    name: `Customer ${seq}`,
    seq,
  };
}

/** The customers a scenario returns for an id. */
export function customersFor(scenario: Scenario, id: string): Customer[] {
  if (scenario === "notfound") return [];
  if (scenario === "several") return [customerFor(id, 1, "gold"), customerFor(id, 2, "bronze")];
  return [customerFor(id)];
}

export interface Ctx {
  scenario: Scenario;
  log: Log;
  violation(message: string): void;
  /** The answer for garbage/badshape/gone/hang/ratelimit, or null when the CRM should answer normally. */
  disturbance(): Answer | null;
  /** A fresh access token, recorded as issued. */
  issueToken(): string;
  /** Whether an Authorization-carried token is one we issued and still accept. */
  tokenAccepted(token: string | undefined): boolean;
}

export type FakeKind = (req: FakeRequest, ctx: Ctx) => Answer;

export const json = (status: number, body: unknown, headers?: Record<string, string>): Answer => ({ status, body, ...(headers ? { headers } : {}) });

export function expectEqual(ctx: Ctx, what: string, actual: unknown, expected: unknown) {
  if (actual !== expected) ctx.violation(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

export function bearer(req: FakeRequest, scheme = "Bearer"): string | undefined {
  const h = req.headers.authorization ?? "";
  return h.startsWith(`${scheme} `) ? h.slice(scheme.length + 1) : undefined;
}

export function basicUser(req: FakeRequest): { user: string; password: string } | undefined {
  const h = req.headers.authorization ?? "";
  if (!h.startsWith("Basic ")) return undefined;
  const text = Buffer.from(h.slice(6), "base64").toString("utf8");
  const i = text.indexOf(":");
  return i < 0 ? undefined : { user: text.slice(0, i), password: text.slice(i + 1) };
}

/** Checks an OAuth token request (RFC 6749 form POST) and returns its fields. */
export function tokenForm(req: FakeRequest, ctx: Ctx): URLSearchParams {
  expectEqual(ctx, "token request method", req.method, "POST");
  if (!(req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) ctx.violation("token request is not a form post");
  return new URLSearchParams(req.body);
}
