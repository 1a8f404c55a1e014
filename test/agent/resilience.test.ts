import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectAri } from "../../pbx-agent/src/ari/ari-client.js";
import type { NodeConfigInput, NodesFile } from "../../shared/node.js";
import { startFakeAsterisk, type FakeAsterisk } from "../fake-asterisk/index.js";
import { refusedUrl } from "./support/fake-edge.js";
import { FAILURE, startRig, SUCCESS, until, type Rig } from "./support/rig.js";

const plain: NodeConfigInput = { name: "plain", interaction: "none", audio: "sound:prompt", expectedLength: 4, timeoutSeconds: 5, successDestination: SUCCESS, failureDestination: FAILURE };
const nodesFile: NodesFile = { acme: { plain: { ...plain, audio: "sound:prompt", timeoutSeconds: 5, attempts: 1, confirm: false, identifyBy: "dtmf", confirmCaller: false } } };

describe("ARI connection", () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ nodesFile });
  });
  afterAll(() => rig.close());

  it("a WebSocket drop mid-call: the call goes on after the reconnect", async () => {
    const id = rig.call("plain");
    await rig.playback(id, "PlaybackFinished");
    await rig.asterisk.sendDtmf(id, "12");
    await rig.asterisk.dropWebSocket();
    expect(rig.asterisk.isConnected()).toBe(false);
    await rig.asterisk.waitForApp(undefined, 5000);
    await rig.asterisk.sendDtmf(id, "34");
    expect(await rig.report(id)).toMatchObject({ outcome: "success" });
    expect(rig.asterisk.channelVars(id).CUSTOMER_ID).toBe("1234");
    expect(rig.logs.some((l) => l.includes("ari websocket lost"))).toBe(true);
  });

  it("a call that ended while the WebSocket was down is dropped as abandoned on reconnect", async () => {
    const id = rig.call("plain");
    await rig.playback(id, "PlaybackFinished");
    await rig.asterisk.dropWebSocket();
    rig.asterisk.hangup(id);
    await rig.asterisk.waitForApp(undefined, 5000);
    expect(await rig.report(id)).toMatchObject({ outcome: "abandoned" });
  });

  it("Asterisk restarts: the agent reconnects by itself and takes new calls", async () => {
    await rig.asterisk.restart({ downMs: 800 });
    await rig.asterisk.waitForApp(undefined, 10_000);
    await until(() => rig.agent.ariState() === "connected", 5000, "connected");
    const id = rig.call("plain");
    await rig.playback(id, "PlaybackFinished");
    await rig.asterisk.sendDtmf(id, "5555");
    expect(await rig.report(id)).toMatchObject({ outcome: "success" });
  });
});

/**
 * A fake Asterisk that drops the agent's WebSocket as the first prompt starts; the prompt (30 ms)
 * is over long before ari-client reconnects (backoff starts at 100 ms), so its PlaybackFinished is lost.
 */
async function asteriskDroppingAtFirstPrompt(): Promise<FakeAsterisk> {
  let dropped = false;
  const asterisk: FakeAsterisk = await startFakeAsterisk({
    playbackMs: 30,
    onEvent: (e) => {
      if (e.event.type !== "PlaybackStarted" || dropped) return;
      dropped = true;
      void asterisk.dropWebSocket();
    },
  });
  return asterisk;
}

it("a prompt that ends while the WebSocket is down: its lost PlaybackFinished no longer holds the call in Stasis (trace 03)", async () => {
  const asterisk = await asteriskDroppingAtFirstPrompt();
  const short = { ...nodesFile.acme!.plain!, timeoutSeconds: 1 };
  const rig = await startRig({ existingAsterisk: asterisk, nodesFile: { acme: { plain: short } } });
  try {
    const id = rig.call("plain");
    const finished = await asterisk.waitFor(() => asterisk.events.find((e) => e.event.type === "PlaybackFinished" && e.event.playback?.target_uri === `channel:${id}`), 5000, "PlaybackFinished");
    expect(finished.delivered).toBe(false);
    await asterisk.waitForApp(undefined, 5000);
    const reconnectedAt = Date.now();
    // Nobody types: once the prompt is known to be over, the 1 s wait for digits runs out and the call goes to its failure destination.
    expect(await rig.report(id, 5000)).toMatchObject({ outcome: "invalid", reason: "attempts_exhausted", route: "dialplan" });
    expect(Date.now() - reconnectedAt).toBeLessThan(3000);
    expect((await asterisk.waitForChannelState(id, "continued", 1000)).state).toBe("continued");
    expect(rig.logs.some((l) => l.includes("prompts had ended without their PlaybackFinished"))).toBe(true);
    expect(rig.agent.stats()).toMatchObject({ calls: 0, playbacks: 0 });
  } finally {
    await rig.close();
  }
});

it("a prompt whose check after the reconnect fails is asked about again later, and its call routes", async () => {
  const asterisk = await asteriskDroppingAtFirstPrompt();
  let failChecks = true;
  asterisk.override((r) => (failChecks && r.method === "GET" && r.path.startsWith("/playbacks/") ? { status: 500, body: { message: "Internal Server Error" } } : undefined));
  const short = { ...nodesFile.acme!.plain!, timeoutSeconds: 1 };
  const rig = await startRig({ existingAsterisk: asterisk, nodesFile: { acme: { plain: short } }, agent: { promptCheckMs: 500 } });
  try {
    const id = rig.call("plain");
    await asterisk.waitForApp(undefined, 5000);
    await until(() => asterisk.commands.some((c) => c.method === "GET" && c.path.startsWith("/playbacks/")), 5000, "the check after the reconnect");
    failChecks = false;
    expect(await rig.report(id, 5000)).toMatchObject({ outcome: "invalid", reason: "attempts_exhausted" });
    expect(asterisk.commands.filter((c) => c.method === "GET" && c.path.startsWith("/playbacks/")).length).toBeGreaterThanOrEqual(2);
  } finally {
    await rig.close();
  }
});

it("20 calls mid-prompt when the WebSocket drops for 800 ms: every one routes after the reconnect, nothing is left behind", async () => {
  const short = { ...nodesFile.acme!.plain!, timeoutSeconds: 1 };
  const rig = await startRig({ asterisk: { playbackMs: 300 }, nodesFile: { acme: { plain: short } } });
  try {
    const before = rig.agent.stats();
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const timersBefore = timers();
    const ids = Array.from({ length: 20 }, () => rig.call("plain"));
    await Promise.all(ids.map((id) => rig.playback(id, "PlaybackStarted")));
    expect(rig.agent.stats()).toMatchObject({ calls: 20, playbacks: 20 });
    // Every prompt ends, and half the callers type their id, while no WebSocket is there to tell the agent.
    await rig.asterisk.dropWebSocket(undefined, { downMs: 800 });
    await Promise.all(ids.filter((_, i) => i % 2 === 0).map((id) => rig.asterisk.sendDtmf(id, "1234", { gapMs: 5 })));
    await Promise.all(ids.map((id) => rig.playback(id, "PlaybackFinished")));
    await rig.asterisk.waitForApp(undefined, 5000);
    const lost = rig.asterisk.events.filter((e) => e.event.type === "PlaybackFinished" && !e.delivered).length;
    expect(lost).toBe(20);
    for (const id of ids) expect((await rig.report(id, 5000)).outcome).toBe("invalid");
    for (const id of ids) expect(rig.asterisk.channelState(id).state).toBe("continued");
    expect(rig.agent.stats()).toEqual(before);
    await until(() => timers() <= timersBefore, 5000, "timers back");
  } finally {
    await rig.close();
  }
}, 20_000);

it("channels already in the app when the agent connects go to their failure destination (trace 03)", async () => {
  const asterisk = await startFakeAsterisk({ playbackMs: 100 });
  // Another process held the app and went away while a call was in it.
  const other = await connectAri(asterisk.url, asterisk.username, asterisk.password);
  await other.start(asterisk.app);
  const id = asterisk.placeCall({ args: ["acme", "plain"] });
  other.stop();
  await asterisk.waitFor(() => !asterisk.isConnected(), 5000);
  const rig = await startRig({ existingAsterisk: asterisk, nodesFile });
  try {
    const r = await rig.report(id);
    expect(r).toMatchObject({ outcome: "failure", reason: "orphaned" });
    expect(asterisk.channelState(id)).toMatchObject({ state: "continued", context: "crm-bridge-route", extension: "3-20" });
    expect(asterisk.channelVars(id)).toMatchObject({ CRM_BRIDGE_OUTCOME: "failure", CRM_BRIDGE_DEST_TYPE: "3", CRM_BRIDGE_DEST_ID: "20" });
    const seen = asterisk.commands.map((c) => `${c.method} ${c.path}`);
    expect(seen).toContain(`GET /applications/${asterisk.app}`);
    expect(seen).toContain(`GET /channels/${id}`);
  } finally {
    await rig.close();
  }
});

it("ARI unreachable at start: one log line per attempt, capped backoff, connects when Asterisk comes up", async () => {
  const url = await refusedUrl();
  const port = Number(new URL(url).port);
  const placeholder = await startFakeAsterisk({ playbackMs: 100 });
  const rig = await startRig({ existingAsterisk: placeholder, ariUrl: url, noWait: true, nodesFile });
  try {
    await until(() => rig.logs.filter((l) => l.includes("ari connect failed")).length >= 3, 10_000, "3 failed attempts");
    expect(rig.agent.ariState()).not.toBe("connected");
    const lines = rig.logs.filter((l) => l.includes("ari connect failed")).map((l) => JSON.parse(l) as { attempt: number; retryInMs: number });
    expect(lines.map((l) => l.attempt).slice(0, 3)).toEqual([1, 2, 3]);
    expect(lines[1]!.retryInMs).toBeGreaterThan(lines[0]!.retryInMs);
    expect(Math.max(...lines.map((l) => l.retryInMs))).toBeLessThanOrEqual(rig.config.ari.reconnectMaxMs);
    const health = await fetch(`http://127.0.0.1:${rig.agent.metricsPort}/healthz`);
    expect(health.status).toBe(503);
    const late = await startFakeAsterisk({ playbackMs: 100, port });
    try {
      await late.waitForApp(undefined, 10_000);
      await until(() => rig.agent.ariState() === "connected", 5000, "connected");
      expect((await fetch(`http://127.0.0.1:${rig.agent.metricsPort}/healthz`)).status).toBe(200);
      const id = late.placeCall({ args: ["acme", "plain"] });
      await late.waitFor(() => late.events.some((e) => e.event.type === "PlaybackFinished"), 5000);
      await late.sendDtmf(id, "1234");
      expect(await rig.report(id)).toMatchObject({ outcome: "success" });
    } finally {
      await rig.agent.stop({ graceMs: 0 });
      await late.close();
    }
  } finally {
    await rig.close();
  }
});

it("metrics: calls by outcome, edge latency, edge timeouts, ARI state; logs mask the id and never hold the key", async () => {
  const rig = await startRig({ edgeTimeoutMs: 200, asterisk: { password: "ari-s3cret-9f2c" } });
  try {
    rig.node("m", { ...plain, interaction: "crm_true_false", connector: "crm" });
    rig.edge.setIdentify("acme", "m", { hang: true });
    const id = rig.call("m");
    await rig.playback(id, "PlaybackFinished");
    await rig.asterisk.sendDtmf(id, "987654".slice(0, 4));
    expect(await rig.report(id)).toMatchObject({ outcome: "timeout" });
    const text = await (await fetch(`http://127.0.0.1:${rig.agent.metricsPort}/metrics`)).text();
    expect(text).toMatch(/crm_bridge_agent_calls_total\{outcome="timeout"\} 1/);
    expect(text).toMatch(/crm_bridge_agent_edge_timeouts_total 1/);
    expect(text).toMatch(/crm_bridge_agent_edge_request_seconds_count\{kind="identify",result="edge_timeout"\} 1/);
    expect(text).toMatch(/crm_bridge_agent_ari_connected 1/);
    const line = rig.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === "call" && l.callId === id)!;
    expect(line).toMatchObject({ tenant: "acme", node: "m", outcome: "timeout", customerId: "**76" });
    expect(line.timings).toBeDefined();
    const all = rig.logs.join("\n");
    expect(all).not.toContain("9876");
    expect(all).not.toContain(rig.edge.key);
    expect(all).not.toContain(rig.config.ari.password);
  } finally {
    await rig.close();
  }
});

it("a wrong ARI password is logged as such, and retried (the agent never exits)", async () => {
  const asterisk = await startFakeAsterisk({ password: "the-right-one" });
  const rig = await startRig({ existingAsterisk: asterisk, noWait: true, ariPassword: "a-wrong-one", nodesFile });
  try {
    await until(() => rig.logs.filter((l) => l.includes("ari_auth_failed")).length >= 2, 5000, "two auth failures");
    const line = JSON.parse(rig.logs.find((l) => l.includes("ari_auth_failed"))!) as { msg: string };
    expect(line.msg).toContain("ARI_PASSWORD");
    expect(rig.logs.join("\n")).not.toContain("a-wrong-one");
  } finally {
    await rig.close();
  }
});
