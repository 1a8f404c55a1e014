import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env.js";
import { tenantHome } from "./home.js";

const TENANT_PATH = /^\/v1\/tenants\/([^/]+)/;
const IDENTIFY_PATH = /\/identify\/?$/;

/**
 * After any authenticated write to a tenant (API or admin pages) has finished, and so after its
 * D1 writes committed, the tenant's config version moves and the change feed records it: every
 * isolate's copy of the tenant's keys, nodes and connectors is re-read within RECHECK_MS
 * (worker/store/nodes.ts, worker/tenant/feed.ts). Done here,
 * once, rather than in each store function, so no write path can forget it; a write that failed
 * half-way bumps too, which costs a re-read and nothing else. Identify is the one POST that
 * writes no config.
 */
export const bumpOnWrite: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  if (c.req.method === "GET" || c.req.method === "HEAD") return;
  const path = new URL(c.req.url).pathname;
  if (IDENTIFY_PATH.test(path)) return;
  const principal = c.get("principal");
  if (!principal) return;
  const fromPath = TENANT_PATH.exec(path)?.[1];
  const tenant = fromPath !== undefined ? decodeURIComponent(fromPath) : principal.kind === "key" ? principal.tenant : undefined;
  if (!tenant) return;
  // A lost bump leaves other isolates on the old copy; the write itself has happened, so it is
  // reported rather than turned into an error the caller would retry.
  await tenantHome(c.env, tenant)
    .bump(tenant)
    .catch((e: unknown) => console.error(JSON.stringify({ level: "error", requestId: c.get("requestId"), msg: "config_version_bump_failed", tenant, error: e instanceof Error ? e.name : "unknown" })));
};
