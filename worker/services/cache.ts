import { z } from "zod";
import { customerId } from "../../shared/ids.js";
import { cacheKey, forgetCached } from "../cache/decision-cache.js";
import { decisionEntry, listDecisions as readDecisions } from "../store/decisions.js";

export { decisionEntry };
import { bumpConnectorRevision, connectorRevisions } from "../store/connectors.js";
import { bumpCacheGeneration } from "../store/tenants.js";
import { logChange, type ServiceContext } from "./context.js";
import { DomainError, notFound } from "./errors.js";

export const purgeQuery = z.object({ connector: z.string().optional(), idContact: customerId.optional() });
export const decisionsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  node: z.string().optional(),
  outcome: decisionEntry.shape.outcome.optional(),
});

/**
 * Purges cached decisions: the whole tenant (a new cache generation), one connector (a new
 * revision) or one id in each connector (its entries deleted). `generation` is the caller's view
 * of the tenant's cache generation, which the entries to delete were written under.
 */
export async function purgeCache(ctx: ServiceContext, tenant: string, generation: number, query: unknown): Promise<"tenant" | "connector" | "id"> {
  const started = Date.now();
  const q = purgeQuery.safeParse(query);
  if (!q.success) throw new DomainError("validation_failed", "idContact must be 1–30 digits");
  const { connector, idContact } = q.data;
  const db = ctx.env.DB;
  const done = (what: "tenant" | "connector" | "id") => {
    logChange(ctx, tenant, `cache.purge.${what}`, connector ?? tenant, "purged", started);
    return what;
  };
  if (!connector && !idContact) {
    await bumpCacheGeneration(db, tenant);
    return done("tenant");
  }
  const revisions = await connectorRevisions(db, tenant, connector);
  if (connector && !revisions.length) throw notFound("connector");
  if (!idContact) {
    await bumpConnectorRevision(db, tenant, connector!);
    return done("connector");
  }
  await Promise.all(
    revisions.map(async (r) => {
      const key = await cacheKey({ tenant, generation, connector: r.id, rev: r.rev, customerId: idContact });
      forgetCached(key);
      await ctx.env.CACHE.delete(key);
    }),
  );
  return done("id");
}

export type DecisionFilter = z.input<typeof decisionsQuery>;

/** Recent decisions, newest first; ids are already masked in the log. */
export function listDecisions(ctx: ServiceContext, tenant: string, query: unknown) {
  const q = decisionsQuery.safeParse(query);
  if (!q.success) throw new DomainError("validation_failed", "limit is 1–1000; outcome is success, failure, route or invalid");
  return readDecisions(ctx.env, tenant, q.data);
}
