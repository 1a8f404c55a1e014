import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { NodeFetchResult } from "../edge/client.js";
import { NodeSource } from "./node-source.js";

const plain = { name: "Plain", interaction: "none" as const, successDestination: { type: 1, id: 1 }, failureDestination: { type: 5, id: 1 } };

function setup(answers: NodeFetchResult[], ttlMs = 1000) {
  let t = 0;
  const calls: string[] = [];
  const stateDir = mkdtempSync(join(tmpdir(), "agent-state-"));
  const source = new NodeSource({
    nodesFile: null,
    stateDir,
    ttlMs,
    now: () => t,
    fetchNode: async (tenant, node) => {
      calls.push(`${tenant}/${node}`);
      return answers.shift() ?? { ok: false, reason: "edge_unreachable" };
    },
  });
  return { source, calls, stateDir, advance: (ms: number) => (t += ms) };
}

const fromEdge = (over: object = {}): NodeFetchResult => ({ ok: true, node: { id: "plain", audio: "sound:beep", timeoutSeconds: 5, attempts: 1, confirm: false, identifyBy: "dtmf", confirmCaller: false, ...plain, ...over } });

describe("NodeSource", () => {
  it("edge, then memory within the TTL, and a last-known-good copy on disk", async () => {
    const { source, calls, stateDir, advance } = setup([fromEdge()]);
    expect(await source.get("acme", "plain")).toMatchObject({ origin: "edge", node: { id: "plain", tenant: "acme" } });
    advance(500);
    expect(await source.get("acme", "plain")).toMatchObject({ origin: "memory" });
    expect(calls).toEqual(["acme/plain"]);
    expect(JSON.parse(readFileSync(join(stateDir, "nodes/acme/plain.json"), "utf8"))).toMatchObject({ name: "Plain" });
  });

  it("edge down: the stale copy, and the edge is not asked by every call", async () => {
    const { source, calls, advance } = setup([fromEdge()]);
    await source.get("acme", "plain");
    advance(2000);
    expect(await source.get("acme", "plain")).toMatchObject({ origin: "stale" });
    expect(await source.get("acme", "plain")).toMatchObject({ origin: "memory" });
    expect(calls.length).toBe(2);
  });

  it("edge down after a restart: the copy on disk; nothing on disk: no node", async () => {
    const first = setup([fromEdge()]);
    await first.source.get("acme", "plain");
    const second = new NodeSource({ nodesFile: null, stateDir: first.stateDir, ttlMs: 1000, fetchNode: async () => ({ ok: false, reason: "edge_timeout" }) });
    expect(await second.get("acme", "plain")).toMatchObject({ origin: "disk", node: { name: "Plain" } });
    expect(await second.get("acme", "other")).toEqual({ node: null, reason: "edge_timeout" });
  });

  it("a node the edge no longer has is dropped from memory and disk", async () => {
    const { source, stateDir, advance } = setup([fromEdge(), { ok: false, reason: "not_found" }]);
    await source.get("acme", "plain");
    advance(5000);
    expect(await source.get("acme", "plain")).toEqual({ node: null, reason: "not_found" });
    expect(existsSync(join(stateDir, "nodes/acme/plain.json"))).toBe(false);
  });

  it("concurrent calls share one edge request", async () => {
    const { source, calls } = setup([fromEdge()]);
    const all = await Promise.all(Array.from({ length: 50 }, () => source.get("acme", "plain")));
    expect(all.every((r) => r.node?.id === "plain")).toBe(true);
    expect(calls.length).toBe(1);
  });

  it("NODES_FILE wins and needs no edge; refs that are not slugs are refused", async () => {
    const source = new NodeSource({ nodesFile: { acme: { plain: { ...plain, audio: "sound:x", timeoutSeconds: 5, attempts: 1, confirm: false, identifyBy: "dtmf", confirmCaller: false } } }, stateDir: "/nonexistent", ttlMs: 0, fetchNode: null });
    expect(await source.get("acme", "plain")).toMatchObject({ origin: "file", node: { audio: "sound:x" } });
    expect(await source.get("acme", "nope")).toEqual({ node: null, reason: "not_in_nodes_file" });
    expect(await source.get("..", "x")).toEqual({ node: null, reason: "bad_node_ref" });
    expect(await source.get("acme", "../../etc")).toEqual({ node: null, reason: "bad_node_ref" });
  });
});
