import { z } from "zod";

export const decisionEntry = z.object({
  at: z.string(),
  node: z.string(),
  maskedId: z.string(),
  outcome: z.enum(["success", "failure", "route", "invalid"]),
  status: z.enum(["ok", "fail"]),
  destination: z.string(),
  reason: z.string().nullable(),
  cache: z.enum(["HIT", "MISS", "STALE", "BYPASS"]),
  ms: z.number(),
  steps: z.array(
    z.object({ connector: z.string(), result: z.string(), cache: z.string(), reason: z.string().optional(), matches: z.number().optional(), rule: z.union([z.number(), z.string()]).optional() }),
  ),
});
export type DecisionEntry = z.infer<typeof decisionEntry>;

// The log is "recent decisions", not an archive: each tenant keeps its newest rows.
const KEEP_PER_TENANT = 1000;

export async function logDecision(db: D1Database, tenant: string, d: DecisionEntry): Promise<void> {
  await db
    .prepare(
      `INSERT INTO decisions (tenant_id, at, node_id, masked_id, outcome, status, destination, reason, cache, ms, steps)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(tenant, d.at, d.node, d.maskedId, d.outcome, d.status, d.destination, d.reason, d.cache, d.ms, JSON.stringify(d.steps))
    .run();
  if (Math.random() < 0.02) {
    await db
      .prepare(
        `DELETE FROM decisions WHERE tenant_id = ?1 AND seq < (SELECT seq FROM decisions WHERE tenant_id = ?1 ORDER BY seq DESC LIMIT 1 OFFSET ${KEEP_PER_TENANT})`,
      )
      .bind(tenant)
      .run();
  }
}

export async function listDecisions(db: D1Database, tenant: string, opts: { limit: number; node?: string | undefined; outcome?: string | undefined }) {
  const { results } = await db
    .prepare(
      `SELECT at, node_id AS node, masked_id AS maskedId, outcome, status, destination, reason, cache, ms, steps FROM decisions
       WHERE tenant_id = ?1 AND (?2 IS NULL OR node_id = ?2) AND (?3 IS NULL OR outcome = ?3) ORDER BY seq DESC LIMIT ?4`,
    )
    .bind(tenant, opts.node ?? null, opts.outcome ?? null, opts.limit)
    .all<Omit<DecisionEntry, "steps"> & { steps: string }>();
  return results.map((r) => ({ ...r, steps: JSON.parse(r.steps) as DecisionEntry["steps"] }));
}
