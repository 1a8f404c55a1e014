import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.js";

/**
 * The change feed: which tenants' config changed, and to which version. Every version bump
 * (worker/tenant/home.ts) is recorded in all FEED_SHARDS shards; each isolate reads one shard
 * once a second and learns every tenant that changed since its last read, so one read covers
 * every tenant the isolate serves (docs/scale.md). Writes go to every shard because admin
 * writes are rare; reads are spread over the shards because every isolate makes them.
 */
export const FEED_SHARDS = 8;
/** A reader further behind than this many changes starts over (re-checks its tenants one by one). */
const MAX_CHANGES = 500;

export type FeedCursor = { epoch: number; seq: number };
export type FeedAnswer = {
  epoch: number;
  seq: number;
  /** Tenants changed since the cursor, with their newest version. */
  changes: Array<{ tenant: string; version: number }>;
  /** The cursor cannot be followed (a new shard, one rebuilt, or too far behind): forget what it covered. */
  reset: boolean;
};

export class ConfigFeed extends DurableObject<Env> {
  private ready = false;

  private sql() {
    const sql = this.ctx.storage.sql;
    if (!this.ready) {
      sql.exec(`CREATE TABLE IF NOT EXISTS changes (tenant TEXT PRIMARY KEY, version INTEGER NOT NULL, seq INTEGER NOT NULL);
        CREATE INDEX IF NOT EXISTS changes_seq ON changes (seq);
        CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);`);
      // A shard that lost its storage starts again from seq 0; the epoch tells its readers so.
      sql.exec("INSERT OR IGNORE INTO meta (k, v) VALUES ('epoch', ?), ('seq', 0)", Math.floor(Math.random() * 2 ** 52));
      this.ready = true;
    }
    return sql;
  }

  private meta(k: "epoch" | "seq"): number {
    return this.sql().exec<{ v: number }>("SELECT v FROM meta WHERE k = ?", k).one().v;
  }

  /** One row per tenant (its newest version), so the shard stays as small as the tenant list. */
  record(tenant: string, version: number): number {
    const seq = this.meta("seq") + 1;
    const sql = this.sql();
    sql.exec("UPDATE meta SET v = ? WHERE k = 'seq'", seq);
    sql.exec(
      `INSERT INTO changes (tenant, version, seq) VALUES (?1, ?2, ?3)
       ON CONFLICT(tenant) DO UPDATE SET version = max(version, ?2), seq = ?3`,
      tenant,
      version,
      seq,
    );
    return seq;
  }

  read(cursor: FeedCursor | null): FeedAnswer {
    const epoch = this.meta("epoch");
    const seq = this.meta("seq");
    if (!cursor || cursor.epoch !== epoch || cursor.seq > seq) return { epoch, seq, changes: [], reset: cursor !== null };
    const rows = this.sql()
      .exec<{ tenant: string; version: number }>("SELECT tenant, version FROM changes WHERE seq > ? ORDER BY seq LIMIT ?", cursor.seq, MAX_CHANGES + 1)
      .toArray();
    if (rows.length > MAX_CHANGES) return { epoch, seq, changes: [], reset: true };
    return { epoch, seq, changes: rows.map((r) => ({ tenant: r.tenant, version: r.version })), reset: false };
  }
}

export function feedShard(env: Pick<Env, "CONFIG_FEED">, shard: number): DurableObjectStub<ConfigFeed> {
  return env.CONFIG_FEED.get(env.CONFIG_FEED.idFromName(`feed-${shard}`));
}

/** Records a tenant's new version in every shard; returns the shards that did not take it. */
export async function publishChange(env: Pick<Env, "CONFIG_FEED">, tenant: string, version: number, shards: number[]): Promise<number[]> {
  const done = await Promise.allSettled(shards.map((s) => feedShard(env, s).record(tenant, version)));
  return shards.filter((_, i) => done[i]!.status === "rejected");
}

export const allShards = () => Array.from({ length: FEED_SHARDS }, (_, i) => i);
