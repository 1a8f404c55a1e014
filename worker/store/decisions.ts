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
    z.object({ connector: z.string(), result: z.string(), cache: z.string(), reason: z.string().optional(), matches: z.number().optional(), rule: z.union([z.number(), z.string()]).optional(), crmMs: z.number().optional(), quotaMs: z.number().optional() }),
  ),
});
export type DecisionEntry = z.infer<typeof decisionEntry>;

// The log is "recent decisions", not an archive: each tenant keeps its newest rows.
const KEEP_PER_TENANT = 1000;

// The whole batch travels as one JSON parameter: one statement however many rows (D1 allows
// only 100 bound parameters per statement, and a statement per row costs a round trip each).
const INSERT_ALL = `INSERT INTO decisions (tenant_id, at, node_id, masked_id, outcome, status, destination, reason, cache, ms, steps)
  SELECT j.value ->> '$.t', j.value ->> '$.at', j.value ->> '$.node', j.value ->> '$.maskedId', j.value ->> '$.outcome',
         j.value ->> '$.status', j.value ->> '$.destination', j.value ->> '$.reason', j.value ->> '$.cache', j.value ->> '$.ms',
         json(j.value -> '$.steps')
  FROM json_each(?) j
  -- A flush that races a tenant delete must not bring rows of the deleted tenant back.
  WHERE EXISTS (SELECT 1 FROM tenants t WHERE t.id = j.value ->> '$.t')
  ORDER BY j.key`;

function insertAll(db: D1Database, batch: Array<{ tenant: string; entry: DecisionEntry }>): D1PreparedStatement {
  return db.prepare(INSERT_ALL).bind(JSON.stringify(batch.map((b) => ({ t: b.tenant, ...b.entry }))));
}

function prune(db: D1Database, tenant: string): D1PreparedStatement {
  return db
    .prepare(`DELETE FROM decisions WHERE tenant_id = ?1 AND seq < (SELECT seq FROM decisions WHERE tenant_id = ?1 ORDER BY seq DESC LIMIT 1 OFFSET ${KEEP_PER_TENANT})`)
    .bind(tenant);
}

/**
 * Decisions are written in batches: the first entry of a window schedules one flush (kept
 * alive by waitUntil) that writes everything the isolate logged meanwhile in one D1 batch.
 * Under load that is one write per window instead of one per call.
 */
export const FLUSH_AFTER_MS = 100;
let pending: Array<{ db: D1Database; tenant: string; entry: DecisionEntry }> = [];
let flushing: Promise<void> | null = null;

export function logDecision(db: D1Database, tenant: string, entry: DecisionEntry, waitUntil: (p: Promise<unknown>) => void): void {
  pending.push({ db, tenant, entry });
  if (flushing) return;
  flushing = new Promise<void>((r) => setTimeout(r, FLUSH_AFTER_MS)).then(async () => {
    const batch = pending;
    pending = [];
    flushing = null;
    const tenants = new Set(batch.map((b) => b.tenant));
    const statements = [insertAll(batch[0]!.db, batch)];
    for (const t of tenants) if (Math.random() < 0.05) statements.push(prune(batch[0]!.db, t));
    await batch[0]!.db.batch(statements).catch(() => undefined);
  });
  // Only the request that opened the window waits for it: awaiting another request's promise is
  // something workerd warns about and may cancel.
  waitUntil(flushing);
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
