import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { inject } from "vitest";
import worker from "../../worker/index.js";

export const OPERATOR = (env as unknown as { ADMIN_TOKEN: string }).ADMIN_TOKEN;
export const crmUrl = () => inject("crmUrl");

type Init = { token?: string | undefined; body?: unknown; headers?: Record<string, string>; raw?: BodyInit };

function requestInit(method: string, init: Init): RequestInit {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  let body: BodyInit | undefined = init.raw;
  if (init.body !== undefined) {
    headers["content-type"] ??= "application/json";
    body = JSON.stringify(init.body);
  }
  return { method, headers, body };
}

/** A request to the worker under test, through its real fetch handler in workerd. */
export async function call(method: string, path: string, init: Init = {}): Promise<Response> {
  return (exports as unknown as { default: Fetcher }).default.fetch(`http://edge.test${path}`, requestInit(method, init));
}

/**
 * A request as Cloudflare's edge would deliver it from client address `ip`: the worker runs as
 * deployed (LOCAL_MODE off), so CF-Connecting-IP is the client's address. Locally (call) every
 * client is one address, so tests that must not share a failed-auth budget come through here.
 */
export async function callFrom(ip: string, method: string, path: string, init: Init = {}): Promise<Response> {
  const req = requestInit(method, init);
  const headers = new Headers(req.headers);
  headers.set("cf-connecting-ip", ip);
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`http://edge.test${path}`, { ...req, headers }), { ...env, LOCAL_MODE: "false" }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

export async function json<T = Record<string, unknown>>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

let seq = 0;
/** A fresh tenant with an admin and an agent key; unique per call so test files never collide. */
export async function newTenant(prefix = "t") {
  const id = `${prefix}-${Date.now().toString(36)}-${(seq++).toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  const put = await call("PUT", `/v1/tenants/${id}`, { token: OPERATOR, body: { name: `Tenant ${id}` } });
  if (put.status !== 201) throw new Error(`tenant create ${put.status}`);
  const admin = await json<{ key: string; id: string }>(await call("POST", `/v1/tenants/${id}/keys`, { token: OPERATOR, body: { role: "admin" } }));
  const agent = await json<{ key: string; id: string }>(await call("POST", `/v1/tenants/${id}/keys`, { token: OPERATOR, body: { role: "agent" } }));
  return { id, admin: admin.key, adminId: admin.id, agent: agent.key, agentId: agent.id };
}

/** A unique path prefix on the fake CRM, so call counts belong to one test. */
export function crmPath(kind: "contract" | "rest", scenario: string): string {
  return `${crmUrl()}/u/${crypto.randomUUID()}/${kind}/${scenario}`;
}

export async function crmCalls(url: string): Promise<{ count: number; last?: { method: string; headers: Record<string, string>; body: string } }> {
  const u = new URL(url.replace("/{idContact}", ""));
  const res = await fetch(`${u.origin}/_calls?path=${encodeURIComponent(u.pathname)}`);
  return (await res.json()) as { count: number };
}

export async function putConnector(t: { id: string; admin: string }, name: string, config: unknown) {
  const res = await call("PUT", `/v1/tenants/${t.id}/connectors/${name}`, { token: t.admin, body: config });
  if (res.status >= 300) throw new Error(`connector ${res.status} ${await res.text()}`);
  return res;
}

export async function putNode(t: { id: string; admin: string }, name: string, config: Record<string, unknown>) {
  const res = await call("PUT", `/v1/tenants/${t.id}/nodes/${name}`, {
    token: t.admin,
    body: { name, successDestination: { type: 1, id: 1 }, failureDestination: { type: 1, id: 2 }, ...config },
  });
  if (res.status >= 300) throw new Error(`node ${res.status} ${await res.text()}`);
  return res;
}

/** Identify exactly as Asterisk's CURL() sends it. */
export function identify(t: { id: string; agent: string }, node: string, idContact: string, headers: Record<string, string> = {}) {
  return call("POST", `/v1/tenants/${t.id}/nodes/${node}/identify`, {
    token: t.agent,
    raw: `idContact=${encodeURIComponent(idContact)}`,
    headers: { "content-type": "application/x-www-form-urlencoded", "user-agent": "OMniLeads", ...headers },
  });
}

/**
 * The tenant's decision log once it holds at least `count` entries (or whatever it holds after
 * `withinMs`). Decisions are appended after the answer, in ~100 ms batches per isolate, so two
 * identifies may land in two batches: wait on the clock, not on a number of reads, which a
 * loaded machine can exhaust before the second batch lands.
 */
export async function waitForDecisions<D = Record<string, unknown>>(t: { id: string; admin: string }, count = 1, query = "", withinMs = 5_000): Promise<D[]> {
  const until = Date.now() + withinMs;
  for (;;) {
    const res = await call("GET", `/v1/tenants/${t.id}/decisions${query}`, { token: t.admin });
    if (res.status !== 200) throw new Error(`decisions ${res.status}: ${await res.text()}`);
    const { decisions } = await json<{ decisions: D[] }>(res);
    if (decisions.length >= count || Date.now() > until) return decisions;
    await new Promise((r) => setTimeout(r, 25));
  }
}
