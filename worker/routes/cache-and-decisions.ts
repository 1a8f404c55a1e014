import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import type { AppEnv } from "../env.js";
import type { Principal } from "../http/auth.js";
import { requireAuth } from "../http/auth.js";
import { documented, ok, security, tenantParam } from "../http/documented.js";
import { decisionEntry, decisionsQuery, listDecisions, purgeCache, purgeQuery } from "../services/cache.js";
import { serviceContext as svc } from "../services/context.js";

export function cacheAndDecisionRoutes(app: OpenAPIHono<AppEnv>) {
  const admin = requireAuth(["admin"]);
  documented(
    app,
    {
      method: "delete",
      path: "/v1/tenants/{tenant}/cache",
      summary: "Purge cached decisions; ?connector= and ?idContact= narrow it",
      security,
      request: { params: tenantParam, query: purgeQuery },
      responses: { 200: ok(z.object({ purged: z.enum(["tenant", "connector", "id"]) })) },
    },
    admin,
    async (c) => {
      const generation = (c.get("principal") as Extract<Principal, { kind: "key" }>).cacheGen;
      return c.json({ purged: await purgeCache(svc(c), c.req.param("tenant")!, generation, c.req.query()) });
    },
  );
  documented(
    app,
    {
      method: "get",
      path: "/v1/tenants/{tenant}/decisions",
      summary: "Recent decisions, newest first (ids masked to their last 2 digits)",
      security,
      request: { params: tenantParam, query: decisionsQuery },
      responses: { 200: ok(z.object({ decisions: z.array(decisionEntry) })) },
    },
    admin,
    async (c) => c.json({ decisions: await listDecisions(svc(c), c.req.param("tenant")!, c.req.query()) }),
  );
}
