import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startFakeAsterisk, type FakeAsterisk } from "../fake-asterisk/index.js";
import { startFakeEdge, type FakeEdge } from "./support/fake-edge.js";
import { DESTINATIONS, FAILURE, SUCCESS, until } from "./support/rig.js";

const TSX = join(process.cwd(), "node_modules/.bin/tsx");
const MAIN = join(process.cwd(), "pbx-agent/src/main.ts");

let asterisk: FakeAsterisk;
let edge: FakeEdge;
let dir: string;
beforeAll(async () => {
  asterisk = await startFakeAsterisk({ playbackMs: 100, password: "ari-pass-7c1e" });
  edge = await startFakeEdge();
  dir = mkdtempSync(join(tmpdir(), "agent-proc-"));
  writeFileSync(join(dir, "destinations.json"), JSON.stringify(DESTINATIONS));
});
afterAll(async () => {
  await asterisk.close();
  await edge.close();
});

function run(env: Record<string, string>): { child: ChildProcess; out: string[]; err: string[]; exit: Promise<number | null> } {
  const child = spawn(TSX, [MAIN], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const out: string[] = [];
  const err: string[] = [];
  child.stdout!.on("data", (b: Buffer) => out.push(...b.toString().split("\n").filter(Boolean)));
  child.stderr!.on("data", (b: Buffer) => err.push(b.toString()));
  const exit = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return { child, out, err, exit };
}

it("bad env: one clear message naming the variable, exit code 2", async () => {
  const p = run({ ARI_PASSWORD: "x", EDGE_URL: "http://127.0.0.1:1", EDGE_KEY: "k", DESTINATIONS_FILE: join(dir, "destinations.json") });
  expect(await p.exit).toBe(2);
  expect(p.err.join("")).toMatch(/ARI_USERNAME/);
  const q = run({ ARI_USERNAME: "u", ARI_PASSWORD: "x", EDGE_URL: "http://127.0.0.1:1", EDGE_KEY: "k", DESTINATIONS_FILE: join(dir, "nope.json") });
  expect(await q.exit).toBe(2);
  expect(q.err.join("")).toMatch(/DESTINATIONS_FILE/);
  // A metrics port already taken is a configuration problem too.
  const r = run({ ARI_USERNAME: "u", ARI_PASSWORD: "x", EDGE_URL: "http://127.0.0.1:1", EDGE_KEY: "k", DESTINATIONS_FILE: join(dir, "destinations.json"), METRICS_PORT: String(asterisk.port), METRICS_HOST: "127.0.0.1" });
  expect(await r.exit).toBe(2);
  expect(r.err.join("")).toMatch(/METRICS_PORT/);
}, 20_000);

it("no settings at all (`npm run agent` alone): every missing setting named, pointed at agent.env.example, exit code 2", async () => {
  const p = run({});
  expect(await p.exit).toBe(2);
  const err = p.err.join("");
  for (const v of ["ARI_USERNAME", "ARI_PASSWORD", "DESTINATIONS_FILE", "EDGE_URL", "EDGE_KEY", "NODES_FILE"]) expect(err).toContain(v);
  expect(err).toContain("pbx-agent/deploy/agent.env.example");
  // Said once, not as a stack trace.
  expect(err).not.toMatch(/\n\s+at /);
}, 20_000);

it("SIGTERM: calls in progress get the grace period, the rest go to their failure destination, exit 0", async () => {
  edge.setNode("acme", "slow", { name: "slow", interaction: "none", audio: "sound:prompt", expectedLength: 4, timeoutSeconds: 30, successDestination: SUCCESS, failureDestination: FAILURE });
  const p = run({
    ARI_URL: asterisk.url,
    ARI_USERNAME: asterisk.username,
    ARI_PASSWORD: asterisk.password,
    EDGE_URL: edge.url,
    EDGE_KEY: edge.key,
    DESTINATIONS_FILE: join(dir, "destinations.json"),
    STATE_DIR: join(dir, "state"),
    METRICS_PORT: "0",
    SHUTDOWN_GRACE_MS: "1500",
  });
  try {
    await asterisk.waitForApp(undefined, 15_000);
    const finishing = asterisk.placeCall({ args: ["acme", "slow"] });
    const stuck = [asterisk.placeCall({ args: ["acme", "slow"] }), asterisk.placeCall({ args: ["acme", "slow"] })];
    const prompted = (id: string) => asterisk.events.some((e) => e.event.type === "PlaybackFinished" && (e.event as { playback?: { target_uri?: string } }).playback?.target_uri === `channel:${id}`);
    await asterisk.waitFor(() => [finishing, ...stuck].every(prompted), 10_000, "prompts");
    const sentAt = Date.now();
    p.child.kill("SIGTERM");
    await until(() => p.out.some((l) => l.includes("shutting down")), 5000, "drain log");
    // A call arriving during the drain is not started only to be cut: straight to its failure destination.
    const late = asterisk.placeCall({ args: ["acme", "slow"] });
    await asterisk.waitFor(() => asterisk.channelState(late).state === "continued", 1000, "late call routed");
    expect(asterisk.channelState(late)).toMatchObject({ context: "crm-bridge-route", extension: "3-20" });
    // A caller still typing within the grace period is served normally.
    await asterisk.sendDtmf(finishing, "2468", { gapMs: 50 });
    await asterisk.waitFor(() => asterisk.channelState(finishing).state === "continued", 5000);
    expect(asterisk.channelState(finishing)).toMatchObject({ context: "to-campaign", extension: "10" });
    expect(asterisk.channelVars(finishing).CRM_BRIDGE_OUTCOME).toBe("success");
    for (const id of stuck) {
      await asterisk.waitFor(() => asterisk.channelState(id).state === "continued", 10_000);
      expect(asterisk.channelState(id)).toMatchObject({ context: "crm-bridge-route", extension: "3-20" });
      expect(asterisk.channelVars(id).CRM_BRIDGE_OUTCOME).toBe("failure");
    }
    const routedAfter = Date.now() - sentAt;
    expect(routedAfter).toBeGreaterThanOrEqual(1400);
    expect(await p.exit).toBe(0);
    // stdout carries JSON lines only: not even swagger-client's notice about Asterisk's Swagger 1.1.
    expect(p.out.filter((l) => { try { JSON.parse(l); return false; } catch { return true; } })).toEqual([]);
    expect(p.out.some((l) => l.includes("ari connected"))).toBe(true);
    const lines = p.out.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l.msg === "call" && l.reason === "shutdown")).toHaveLength(3);
    expect(p.out.join("\n")).not.toContain("2468");
    expect(p.out.join("\n")).not.toContain(edge.key);
  } finally {
    p.child.kill("SIGKILL");
  }
}, 30_000);

it("a refused ARI password never kills the process: it logs ari_auth_failed and keeps retrying", async () => {
  const p = run({
    ARI_URL: asterisk.url,
    ARI_USERNAME: asterisk.username,
    ARI_PASSWORD: "not-the-password",
    ARI_RECONNECT_MAX_MS: "200",
    EDGE_URL: edge.url,
    EDGE_KEY: edge.key,
    DESTINATIONS_FILE: join(dir, "destinations.json"),
    STATE_DIR: join(dir, "state-auth"),
    METRICS_PORT: "0",
  });
  await until(() => p.out.filter((l) => l.includes("ari_auth_failed")).length >= 3, 15_000, "three auth failures");
  expect(p.child.exitCode).toBeNull();
  expect(p.out.join("\n")).not.toContain("not-the-password");
  p.child.kill("SIGTERM");
  expect(await p.exit).toBe(0);
}, 30_000);
