import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import { customerId } from "../../shared/ids.js";
import { cacheKey, forgetCached } from "../cache/decision-cache.js";
import type { AppEnv } from "../env.js";
import type { Principal } from "../http/auth.js";
import { requireAuth } from "../http/auth.js";
import { documented, ok, security, tenantParam } from "../http/documented.js";
import { ApiError, notFound } from "../http/errors.js";
import { decisionEntry, listDecisions } from "../store/decisions.js";
import { bumpCacheGeneration } from "../store/tenants.js";
import { changed } from "../store/local-epoch.js";

const purgeQuery = z.object({ connector: z.string().optional(), idContact: customerId.optional() });
const decisionsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  node: z.string().optional(),
  outcome: decisionEntry.shape.outcome.optional(),
});

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
      const q = purgeQuery.safeParse(c.req.query());
      if (!q.success) throw new ApiError(400, "validation_failed", "idContact must be 1–30 digits");
      const tenant = c.req.param("tenant")!;
      const db = c.env.DB;
      const { connector, idContact } = q.data;
      if (!connector && !idContact) {
        await bumpCacheGeneration(db, tenant);
        return c.json({ purged: "tenant" as const });
      }
      const { results } = await db
        .prepare("SELECT id, rev FROM connectors WHERE tenant_id = ? AND (? IS NULL OR id = ?)")
        .bind(tenant, connector ?? null, connector ?? null)
        .all<{ id: string; rev: number }>();
      if (connector && !results.length) throw notFound("connector");
      if (!idContact) {
        // Bumping the revision retires every entry of the connector at once, everywhere.
        await db.prepare("UPDATE connectors SET rev = rev + 1 WHERE tenant_id = ? AND id = ?").bind(tenant, connector).run();
        changed();
        return c.json({ purged: "connector" as const });
      }
      const generation = (c.get("principal") as Extract<Principal, { kind: "key" }>).cacheGen;
      await Promise.all(
        results.map(async (r) => {
          const key = await cacheKey({ tenant, generation, connector: r.id, rev: r.rev, customerId: idContact });
          forgetCached(key);
          await c.env.CACHE.delete(key);
        }),
      );
      return c.json({ purged: "id" as const });
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
    async (c) => {
      const q = decisionsQuery.safeParse(c.req.query());
      if (!q.success) throw new ApiError(400, "validation_failed", "limit is 1–1000; outcome is success, failure, route or invalid");
      return c.json({ decisions: await listDecisions(c.env, c.req.param("tenant")!, q.data) });
    },
  );
}
