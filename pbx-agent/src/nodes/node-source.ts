import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { SLUG_PATTERN } from "../../../shared/ids.js";
import { node as nodeSchema, type NodeConfig, type NodesFile } from "../../../shared/node.js";
import type { BaseReason } from "../../../shared/reasons.js";
import type { NodeFetchResult } from "../edge/client.js";

/** A node ready to run: its config plus where it lives. */
export type RunnableNode = NodeConfig & { id: string; tenant: string };
export type NodeOrigin = "file" | "memory" | "edge" | "stale" | "disk";
export type NodeLookup = { node: RunnableNode; origin: NodeOrigin } | { node: null; reason: BaseReason };

export type NodeSourceOptions = {
  nodesFile: NodesFile | null;
  /** Asks the edge; null when the agent runs without one (NODES_FILE only). */
  fetchNode: ((tenant: string, node: string) => Promise<NodeFetchResult>) | null;
  stateDir: string;
  ttlMs: number;
  /** After an edge failure, how long a stale or disk copy is served before the edge is asked again. */
  retryAfterMs?: number;
  now?: () => number;
  onEdgeError?: (tenant: string, node: string, reason: string) => void;
};

type Entry = { node: RunnableNode; freshUntil: number; json: string };

function toRunnable(tenant: string, id: string, raw: unknown): RunnableNode | null {
  const parsed = nodeSchema.safeParse({ id, ...(raw as object), tenant });
  return parsed.success ? { ...parsed.data, id, tenant } : null;
}

/**
 * SPEC 6 step 1: NODES_FILE, else memory (short TTL), else the edge, else the last-known-good
 * copy under STATE_DIR. Concurrent calls for one node share one edge request, and an edge
 * that is down is not asked again by every call: a stale copy answers for `retryAfterMs`.
 */
export class NodeSource {
  private readonly memory = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<NodeLookup>>();
  private readonly now: () => number;

  constructor(private readonly opts: NodeSourceOptions) {
    this.now = opts.now ?? Date.now;
  }

  async get(tenant: string, nodeId: string): Promise<NodeLookup> {
    // Tenant and node come from dialplan arguments and end up in file paths: nothing but slugs.
    if (!SLUG_PATTERN.test(tenant) || !SLUG_PATTERN.test(nodeId)) return { node: null, reason: "bad_node_ref" };
    const fromFile = this.opts.nodesFile?.[tenant]?.[nodeId];
    if (fromFile) {
      const n = toRunnable(tenant, nodeId, fromFile);
      if (n) return { node: n, origin: "file" };
    }
    const key = `${tenant}/${nodeId}`;
    const cached = this.memory.get(key);
    if (cached && cached.freshUntil > this.now()) return { node: cached.node, origin: "memory" };
    if (!this.opts.fetchNode) return cached ? { node: cached.node, origin: "stale" } : { node: null, reason: this.opts.nodesFile ? "not_in_nodes_file" : "no_edge" };
    let p = this.inflight.get(key);
    if (!p) {
      p = this.refresh(tenant, nodeId, key).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  private path(tenant: string, nodeId: string): string {
    return join(this.opts.stateDir, "nodes", tenant, `${nodeId}.json`);
  }

  private async refresh(tenant: string, nodeId: string, key: string): Promise<NodeLookup> {
    const r = await this.opts.fetchNode!(tenant, nodeId);
    if (r.ok) {
      const node = toRunnable(tenant, nodeId, r.node);
      if (node) {
        const json = JSON.stringify(node);
        const before = this.memory.get(key);
        this.memory.set(key, { node, json, freshUntil: this.now() + this.opts.ttlMs });
        if (before?.json !== json) await this.writeLastKnownGood(tenant, nodeId, json);
        return { node, origin: "edge" };
      }
    }
    if (!r.ok && r.reason === "not_found") {
      // The edge says the node is gone: a last-known-good copy would resurrect it.
      this.memory.delete(key);
      await rm(this.path(tenant, nodeId), { force: true }).catch(() => undefined);
      return { node: null, reason: "not_found" };
    }
    const reason = r.ok ? "edge_bad_reply" : r.reason;
    this.opts.onEdgeError?.(tenant, nodeId, reason);
    const hold = this.now() + Math.min(this.opts.ttlMs || Infinity, this.opts.retryAfterMs ?? 5000);
    const stale = this.memory.get(key);
    if (stale) {
      stale.freshUntil = hold;
      return { node: stale.node, origin: "stale" };
    }
    const disk = await this.readLastKnownGood(tenant, nodeId);
    if (disk) {
      this.memory.set(key, { node: disk, json: JSON.stringify(disk), freshUntil: hold });
      return { node: disk, origin: "disk" };
    }
    return { node: null, reason };
  }

  private async writeLastKnownGood(tenant: string, nodeId: string, json: string): Promise<void> {
    const file = this.path(tenant, nodeId);
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      await mkdir(join(this.opts.stateDir, "nodes", tenant), { recursive: true });
      await writeFile(tmp, json);
      await rename(tmp, file);
    } catch {
      // A read-only or full disk must not fail the call; the copy is only a fallback.
    }
  }

  private async readLastKnownGood(tenant: string, nodeId: string): Promise<RunnableNode | null> {
    try {
      return toRunnable(tenant, nodeId, JSON.parse(await readFile(this.path(tenant, nodeId), "utf8")));
    } catch {
      return null;
    }
  }
}
