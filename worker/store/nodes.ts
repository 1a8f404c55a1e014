import { BoundedCache } from "../../shared/bounded-cache.js";
import { connectorNames, type NodeConfig } from "../../shared/node.js";
import { unsealConnector, type SealingKeys, type StoredConnector } from "./connectors.js";
import { keyLookup, type KeyRow } from "./keys.js";
import type { Env } from "../env.js";
import { feedShard, FEED_SHARDS, type FeedAnswer, type FeedCursor } from "../tenant/feed.js";
import { tenantHome } from "../tenant/home.js";
import { changed, localEpoch } from "./local-epoch.js";

/** The names among `names` that are connectors of the tenant. */
export async function existingConnectors(db: D1Database, tenant: string, names: string[]): Promise<string[]> {
  if (!names.length) return [];
  const { results } = await db
    .prepare("SELECT id FROM connectors WHERE tenant_id = ? AND id IN (SELECT value FROM json_each(?))")
    .bind(tenant, JSON.stringify(names))
    .all<{ id: string }>();
  return results.map((r) => r.id);
}

/** A stored node; rows written before a field with a default existed read as that default. */
function storedConfig(json: string): NodeConfig {
  return { identifyBy: "dtmf", confirmCaller: false, ...(JSON.parse(json) as Partial<NodeConfig>) } as NodeConfig;
}

/** Create or replace a validated node; its chain is kept apart so connector deletes can see who uses them. */
export async function saveNode(db: D1Database, tenant: string, id: string, config: NodeConfig) {
  const existed = await db.prepare("SELECT 1 FROM nodes WHERE tenant_id = ? AND id = ?").bind(tenant, id).first();
  await db
    .prepare(
      `INSERT INTO nodes (tenant_id, id, config, connectors) VALUES (?1, ?2, ?3, ?4)
       ON CONFLICT(tenant_id, id) DO UPDATE SET config = ?3, connectors = ?4, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`,
    )
    .bind(tenant, id, JSON.stringify(config), JSON.stringify(connectorNames(config)))
    .run();
  changed();
  return { created: !existed, node: { id, ...config } };
}

export async function getNode(db: D1Database, tenant: string, id: string) {
  const row = await db.prepare("SELECT config FROM nodes WHERE tenant_id = ? AND id = ?").bind(tenant, id).first<{ config: string }>();
  return row ? { id, ...storedConfig(row.config) } : null;
}

export async function listNodes(db: D1Database, tenant: string) {
  const { results } = await db.prepare("SELECT id, config FROM nodes WHERE tenant_id = ? ORDER BY id").bind(tenant).all<{ id: string; config: string }>();
  return results.map((r) => ({ id: r.id, ...storedConfig(r.config) }));
}

export async function deleteNode(db: D1Database, tenant: string, id: string): Promise<boolean> {
  const r = await db.prepare("DELETE FROM nodes WHERE tenant_id = ? AND id = ?").bind(tenant, id).run();
  changed();
  return r.meta.changes > 0;
}

type ContextRows = { keyRow: KeyRow | null; nodeRow: { config: string; defaultCountry: string | null } | undefined; connRows: Array<{ id: string; config: string; secrets: string | null; rev: number }> };

/**
 * Identify's D1 rows per key + node, kept while the tenant's config version (held by its
 * TenantHome object, bumped after every config write) is unchanged: in steady state an identify
 * makes no D1 query. The isolate learns which tenants changed from the change feed
 * (worker/tenant/feed.ts), read once a second whatever the number of tenants it serves; a change
 * made by another isolate (a revoked key, a purge, a new mapping) reaches this one within that
 * second; changes made here are seen at once (localEpoch). docs/scale.md.
 */
export const RECHECK_MS = 1000;
/**
 * The last answered feed read vouches for this long: past it (reads failing or slow), each
 * tenant's version is asked of its own object once a second, as without a feed.
 */
const FEED_TRUST_MS = RECHECK_MS + 500;
/**
 * A copy is read again after this long even if the version did not move: writes that bypass
 * the worker (`wrangler d1 execute`, a Time Travel restore) bump no version, and reach identify
 * within this bound (docs/operations.md). At most one D1 batch per key + node per isolate per hour.
 */
export const MAX_COPY_MS = 3600_000;
const MAX_ENTRIES = 5000;
const contexts = new BoundedCache<string, { rows: ContextRows; version: number; epoch: number }>({ max: MAX_ENTRIES, ttlMs: MAX_COPY_MS });
/**
 * A tenant's version as last learnt, from its object or from the feed. `tick` orders it against
 * the feed's cursor: the feed vouches for an entry learnt after the cursor was established.
 */
const versions = new BoundedCache<string, { version: number; tick: number; checkedAt: number }>({ max: MAX_ENTRIES });
/** Orders events within the isolate; Workers' clock does not move between I/O, so time cannot. */
let tick = 0;
const feed = {
  shard: -1,
  cursor: null as FeedCursor | null,
  /** The tick at which the current cursor was established: entries learnt before it are on their own. */
  since: Infinity,
  /** When the last answered read was sent (what it vouches for is at least that fresh). */
  okAt: -Infinity,
  /** When the last read was sent, answered or not: one a second, also while the feed fails. */
  askedAt: -Infinity,
};

/** Counted by the many-tenant bench and tests; a module counter costs nothing on the hot path. */
export const hotPathCounters = { d1Batches: 0, versionChecks: 0, feedReads: 0 };
/** How many copies the isolate holds (bounded by MAX_ENTRIES each): the bench's memory figure. */
export const copiesHeld = () => ({ contexts: contexts.size, versions: versions.size });

/**
 * One feed read a second for the whole isolate. The request that finds it due waits for it;
 * others meanwhile go on with what the last read said (at most RECHECK_MS + the read's time
 * old). Each request awaits only I/O it started itself (workerd must not await another's).
 */
async function followFeed(env: Pick<Env, "CONFIG_FEED">, now: number): Promise<void> {
  if (now - feed.askedAt < RECHECK_MS) return;
  if (feed.shard < 0) feed.shard = Math.floor(Math.random() * FEED_SHARDS);
  feed.askedAt = now;
  hotPathCounters.feedReads++;
  const shard = feed.shard;
  let answer: FeedAnswer;
  try {
    answer = await feedShard(env, shard).read(feed.cursor);
  } catch {
    // Another shard next time: its cursor starts afresh, so entries are re-checked one by one.
    if (feed.shard === shard) Object.assign(feed, { shard: (shard + 1) % FEED_SHARDS, cursor: null, since: Infinity });
    return;
  }
  if (feed.shard !== shard) return;
  if (!feed.cursor || answer.reset) feed.since = ++tick;
  for (const { tenant, version } of answer.changes) {
    const known = versions.get(tenant);
    if (known) versions.set(tenant, { version: Number.isNaN(known.version) ? version : Math.max(known.version, version), tick: ++tick, checkedAt: now });
  }
  feed.cursor = { epoch: answer.epoch, seq: answer.seq };
  feed.okAt = Math.max(feed.okAt, now);
}

/**
 * The tenant's config version: what the feed vouches for, else (a tenant new to this isolate,
 * or the feed not answering) asked of the tenant's object, at most once a second. An unreachable
 * object yields NaN, which matches nothing, so D1 is read as before.
 */
async function tenantVersion(env: Pick<Env, "TENANT_HOME" | "CONFIG_FEED">, tenant: string, now: number): Promise<number> {
  await followFeed(env, now);
  const known = versions.get(tenant);
  const vouched = known !== undefined && !Number.isNaN(known.version) && known.tick > feed.since && now - feed.okAt < FEED_TRUST_MS;
  if (known && (vouched || now - known.checkedAt < RECHECK_MS)) return known.version;
  hotPathCounters.versionChecks++;
  const asked = ++tick;
  const version = await tenantHome(env, tenant)
    .version()
    .catch(() => NaN);
  // A feed read that answered meanwhile may know a newer version; versions never go down.
  const latest = versions.get(tenant);
  const merged = !Number.isNaN(version) && latest && latest.version > version ? latest.version : version;
  versions.set(tenant, { version: merged, tick: Number.isNaN(version) ? -Infinity : asked, checkedAt: now });
  return merged;
}

/**
 * What identify needs: the caller's key row, the node, and its connectors in chain order,
 * decrypted; one D1 round trip when the tenant's config changed, none otherwise. The key is
 * checked by the caller (auth stays in http/).
 */
export async function loadIdentifyContext(env: Pick<Env, "DB" | "TENANT_HOME" | "CONFIG_FEED">, keys: SealingKeys, keyId: string, tenant: string, id: string) {
  const db = env.DB;
  const cacheKey = `${keyId}\u0000${tenant}\u0000${id}`;
  const epoch = localEpoch();
  const now = Date.now();
  const version = await tenantVersion(env, tenant, now);
  let hit = contexts.get(cacheKey);
  if (!hit || hit.epoch !== epoch || hit.version !== version) {
    hotPathCounters.d1Batches++;
    const [keyRes, nodeRes, connRes] = await db.batch<Record<string, unknown>>([
      keyLookup(db, keyId),
      db
        .prepare("SELECT n.id, n.config, t.default_country AS defaultCountry FROM nodes n JOIN tenants t ON t.id = n.tenant_id WHERE n.tenant_id = ? AND n.id = ?")
        .bind(tenant, id),
      db
        .prepare(
          `SELECT c.id, c.config, c.secrets, c.rev FROM nodes n, json_each(n.connectors) j
           JOIN connectors c ON c.tenant_id = n.tenant_id AND c.id = j.value
           WHERE n.tenant_id = ? AND n.id = ? ORDER BY j.key`,
        )
        .bind(tenant, id),
    ]);
    const rows: ContextRows = {
      keyRow: (keyRes?.results[0] as KeyRow | undefined) ?? null,
      nodeRow: nodeRes?.results[0] as ContextRows["nodeRow"],
      connRows: (connRes?.results ?? []) as ContextRows["connRows"],
    };
    // Read after the version: a write landing in between leaves a copy newer than its version,
    // which the next check replaces; never an older copy under a newer version.
    hit = { rows, version, epoch };
    contexts.set(cacheKey, hit);
  }
  const { keyRow, nodeRow, connRows } = hit.rows;
  // Connectors are only unsealed for a key of this very tenant: nothing is decrypted for a stranger.
  const load = async () => {
    if (!nodeRow) return null;
    const connectors: StoredConnector[] = await Promise.all(connRows.map((r) => unsealConnector(keys, tenant, r)));
    const node = { id, ...storedConfig(nodeRow.config) };
    // National caller numbers are read in the node's country, else the tenant's (issue 12).
    const defaultCountry = node.defaultCountry ?? nodeRow.defaultCountry ?? undefined;
    return { node: defaultCountry ? { ...node, defaultCountry } : node, connectors };
  };
  return { keyRow, load };
}
