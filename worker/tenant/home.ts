import { DurableObject } from "cloudflare:workers";
import { BoundedCache } from "../../shared/bounded-cache.js";
import type { Env } from "../env.js";
import type { DecisionEntry } from "../store/decisions.js";
import { allShards, publishChange } from "./feed.js";

/** The log is "recent decisions", not an archive. */
export const KEEP_DECISIONS = 1000;
/** Per-minute counts cover the day chart (24 h) with an hour to spare. */
const KEEP_MINUTES_MS = 25 * 3600_000;
/** A key's last use is written to D1 at most this often, by this one object for the whole fleet. */
const TOUCH_EVERY_MS = 60_000;
/** A feed shard that missed a change is sent it again this soon (by alarm), until it has it. */
const REPUBLISH_MS = 1000;

type FeedPending = { tenant: string; version: number; shards: number[] };

export type DecisionQuery = { limit: number; node?: string | undefined; outcome?: string | undefined };
export type MinuteCount = { minute: number; outcome: string; n: number; msSum: number };

/**
 * One per tenant (named by the tenant id), SQLite-backed: the tenant's recent decisions, its
 * per-minute counts and its config version. Each tenant's writes land in its own object instead
 * of one database shared by every tenant, and the version is the consistent "has anything
 * changed?" that lets isolates keep their copy of the tenant's config (docs/scale.md).
 */
export class TenantHome extends DurableObject<Env> {
  private ready = false;
  // Per key: when its last-used time was last written. Evicting one costs only an early write.
  private touched = new BoundedCache<string, number>({ max: 1000 });

  private sql() {
    const sql = this.ctx.storage.sql;
    if (!this.ready) {
      sql.exec(`CREATE TABLE IF NOT EXISTS decisions (seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, node TEXT NOT NULL, outcome TEXT NOT NULL, entry TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS minutes (minute INTEGER NOT NULL, outcome TEXT NOT NULL, n INTEGER NOT NULL, ms_sum REAL NOT NULL, PRIMARY KEY (minute, outcome));
        CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);`);
      this.ready = true;
    }
    return sql;
  }

  /**
   * Reads create nothing: identify asks for the version before the key is checked, so a
   * stranger's made-up tenant name must not leave tables behind.
   */
  private read<T extends Record<string, SqlStorageValue>>(query: string, ...bindings: unknown[]): T[] {
    if (this.ready) return this.ctx.storage.sql.exec<T>(query, ...bindings).toArray();
    try {
      return this.ctx.storage.sql.exec<T>(query, ...bindings).toArray();
    } catch {
      return [];
    }
  }

  private meta(k: string): number | null {
    const row = this.read<{ v: number }>("SELECT v FROM meta WHERE k = ?", k)[0];
    return row ? row.v : null;
  }

  private setMeta(k: string, v: number): void {
    this.sql().exec("INSERT INTO meta (k, v) VALUES (?1, ?2) ON CONFLICT(k) DO UPDATE SET v = ?2", k, v);
  }

  /** A batch of one isolate's decisions for this tenant, and the keys that made them. */
  async append(entries: DecisionEntry[], keyIds: string[] = []): Promise<{ appended: number }> {
    const sql = this.sql();
    // A flush that races a tenant delete must not bring the deleted tenant's calls back.
    const deletedAt = this.meta("deleted_at") ?? 0;
    const kept = entries.filter((e) => Date.parse(e.at) > deletedAt);
    for (const e of kept) {
      sql.exec("INSERT INTO decisions (at, node, outcome, entry) VALUES (?, ?, ?, ?)", e.at, e.node, e.outcome, JSON.stringify(e));
      sql.exec(
        `INSERT INTO minutes (minute, outcome, n, ms_sum) VALUES (?1, ?2, 1, ?3)
         ON CONFLICT(minute, outcome) DO UPDATE SET n = n + 1, ms_sum = ms_sum + ?3`,
        Math.floor(Date.parse(e.at) / 60_000),
        e.outcome,
        e.ms,
      );
    }
    if (kept.length) {
      sql.exec(`DELETE FROM decisions WHERE seq <= (SELECT seq FROM decisions ORDER BY seq DESC LIMIT 1 OFFSET ${KEEP_DECISIONS})`);
      sql.exec("DELETE FROM minutes WHERE minute < ?", Math.floor((Date.now() - KEEP_MINUTES_MS) / 60_000));
    }
    if (kept.length) await this.touchKeys(keyIds);
    return { appended: kept.length };
  }

  /** The isolates no longer write last-used per call; this object does, once a minute per key. */
  private async touchKeys(keyIds: string[]): Promise<void> {
    const now = Date.now();
    const due = [...new Set(keyIds)].filter((id) => now - (this.touched.get(id) ?? 0) >= TOUCH_EVERY_MS);
    if (!due.length) return;
    for (const id of due) this.touched.set(id, now);
    await this.env.DB.prepare("UPDATE api_keys SET last_used_at = ?1 WHERE id IN (SELECT value FROM json_each(?2))")
      .bind(new Date(now).toISOString(), JSON.stringify(due))
      .run()
      .catch(() => undefined);
  }

  list(q: DecisionQuery): DecisionEntry[] {
    return this.read<{ entry: string }>(
      "SELECT entry FROM decisions WHERE (?1 IS NULL OR node = ?1) AND (?2 IS NULL OR outcome = ?2) ORDER BY at DESC, seq DESC LIMIT ?3",
      q.node ?? null,
      q.outcome ?? null,
      q.limit,
    ).map((r) => JSON.parse(r.entry) as DecisionEntry);
  }

  /** Counts per minute and outcome since `sinceMs`: every call, not only the newest 1000. */
  minutes(sinceMs: number): MinuteCount[] {
    return this.read<MinuteCount>("SELECT minute, outcome, n, ms_sum AS msSum FROM minutes WHERE minute >= ? ORDER BY minute", Math.floor(sinceMs / 60_000));
  }

  /** The tenant's config version: changes whenever its keys, connectors, nodes or cache generation do. */
  version(): number {
    return this.meta("version") ?? 0;
  }

  private nextVersion(): number {
    const next = Math.max((this.meta("version") ?? 0) + 1, Date.now());
    this.setMeta("version", next);
    return next;
  }

  /**
   * Called after a config write has committed in D1. Never repeats a value, even across a
   * wipe (which forgets the counter), and never goes down: isolates keep the larger of two.
   * The new version is in the change feed before this returns, so every isolate sees it at its
   * next feed read (≤ 1 s); a shard that missed it gets it again by alarm.
   */
  async bump(tenant: string): Promise<number> {
    const version = this.nextVersion();
    // Required, so no new caller forgets it; a caller from before the feed (an isolate still on
    // the previous deploy) names none at run time, and the object's own name stands in.
    const name = (tenant as string | undefined) ?? this.ctx.id.name;
    if (name !== undefined) await this.publish({ tenant: name, version, shards: allShards() });
    else console.error(JSON.stringify({ level: "error", msg: "config_feed_unnamed_bump" }));
    return version;
  }

  private async publish(p: FeedPending): Promise<void> {
    const missed = await publishChange(this.env, p.tenant, p.version, p.shards);
    const before = await this.ctx.storage.get<FeedPending>("feedPending");
    // What is still owed: the shards that missed this version, and those owed an earlier resend
    // that this one did not reach (or all of them, if that resend carries a newer version).
    const owed = before ? before.shards.filter((s) => before.version > p.version || !p.shards.includes(s)) : [];
    const left = [...new Set([...missed, ...owed])];
    if (!left.length) {
      if (before) await this.ctx.storage.delete("feedPending");
      return;
    }
    await this.ctx.storage.put("feedPending", { tenant: p.tenant, version: Math.max(p.version, before?.version ?? 0), shards: left });
    await this.ctx.storage.setAlarm(Date.now() + REPUBLISH_MS);
  }

  override async alarm(): Promise<void> {
    const p = await this.ctx.storage.get<FeedPending>("feedPending");
    if (p) await this.publish(p);
  }

  /** Tenant delete: everything goes; returns how many decisions were removed. */
  async wipe(tenant: string): Promise<{ decisions: number }> {
    const n = this.read<{ n: number }>("SELECT count(*) AS n FROM decisions")[0]?.n ?? 0;
    const version = this.nextVersion();
    await this.ctx.storage.deleteAll();
    this.ready = false;
    this.touched.clear();
    this.setMeta("deleted_at", Date.now());
    this.setMeta("version", version + 1);
    const name = (tenant as string | undefined) ?? this.ctx.id.name;
    if (name !== undefined) await this.publish({ tenant: name, version: version + 1, shards: allShards() });
    return { decisions: n };
  }
}

/** The tenant's object. */
export function tenantHome(env: Pick<Env, "TENANT_HOME">, tenant: string): DurableObjectStub<TenantHome> {
  return env.TENANT_HOME.get(env.TENANT_HOME.idFromName(tenant));
}
