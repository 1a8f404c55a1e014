import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { connectRawApp, startFakeAsterisk, type FakeAsterisk } from "../fake-asterisk/index.js";
import type { Proc } from "../support/processes.js";
import { startFakeEdge, type FakeEdge } from "./support/fake-edge.js";
import { PEER_APPS, PEER_DEAD_MS, startPeerAgent, startPeerPair } from "./support/peer-agent.js";
import { DESTINATIONS, FAILURE, startRig, SUCCESS } from "./support/rig.js";

// Two real agent processes on one (fake) Asterisk, each with its own Stasis app, as in
// pbx-agent/asterisk/extensions.conf: Stasis(crm-bridge-a) and, when that fails, Stasis(crm-bridge-b).
const APPS = PEER_APPS;
const DEAD_MS = PEER_DEAD_MS;

let asterisk: FakeAsterisk;
let edge: FakeEdge;
let dir: string;
const agents: Proc[] = [];
beforeAll(async () => {
  asterisk = await startFakeAsterisk({ playbackMs: 200, app: APPS[0] });
  edge = await startFakeEdge();
  dir = mkdtempSync(join(tmpdir(), "agent-ha-"));
  writeFileSync(join(dir, "destinations.json"), JSON.stringify(DESTINATIONS));
  edge.setNode("acme", "sales", { name: "sales", interaction: "none", audio: "sound:prompt", expectedLength: 4, timeoutSeconds: 30, successDestination: SUCCESS, failureDestination: FAILURE });
});
afterAll(async () => {
  for (const a of agents) await a.stop("SIGKILL");
  await asterisk.close();
  await edge.close();
});

function startAgentProcess(app: string, peer: string): Proc {
  const p = startPeerAgent({ asterisk, edge, dir, app, peer, deadMs: DEAD_MS });
  agents.push(p);
  return p;
}

/** The sample dialplan: the first app whose Stasis() does not fail takes the call. */
function dial(apps: readonly string[] = APPS): { id: string; app: string } {
  for (const app of apps) {
    try {
      return { id: asterisk.placeCall({ app, args: ["acme", "sales"] }), app };
    } catch {
      // STASISSTATUS=FAILED: the app is not active; the dialplan tries the next one.
    }
  }
  throw new Error("no agent app active");
}

const prompted = (id: string, after = 0) =>
  asterisk.waitForEvent("PlaybackStarted", (e) => e.seq > after && (e.event as { playback?: { target_uri?: string } }).playback?.target_uri === `channel:${id}`, 10_000);

const startPair = (apps: readonly [string, string]) => startPeerPair(asterisk, startAgentProcess, apps);

it("kill -9 of one agent mid-call: the other moves its call into its own app and finishes it, new calls keep landing", async () => {
  const [a, b] = await startPair(APPS);

  const inProgress = dial();
  expect(inProgress.app).toBe(APPS[0]);
  await prompted(inProgress.id);
  await asterisk.sendDtmf(inProgress.id, "12", { gapMs: 20 }); // the caller is typing
  // While both beat, b leaves a's call alone, however long it takes.
  await new Promise((r) => setTimeout(r, DEAD_MS * 2));
  expect(asterisk.channelState(inProgress.id).state).toBe("inStasis");
  expect(b.output.some((l) => l.includes("peer agent down"))).toBe(false);

  const mark = asterisk.events.at(-1)?.seq ?? 0;
  a.child.kill("SIGKILL");
  await a.stop("SIGKILL");
  // The channel stays in the dead agent's app (trace 03) until b moves it into its own, with the
  // Stasis() args it came with; b's StasisStart runs the node again from the prompt.
  const killedAt = Date.now();
  await prompted(inProgress.id, mark);
  expect(Date.now() - killedAt).toBeLessThan(DEAD_MS + 4000);
  const move = asterisk.commands.find((c) => c.path === `/channels/${inProgress.id}/move`);
  expect(move).toMatchObject({ method: "POST", status: 204, query: { app: APPS[1], appArgs: "acme,sales" } });
  const arrived = asterisk.events.find((e) => e.seq > mark && e.event.type === "StasisStart");
  expect(arrived).toMatchObject({ app: APPS[1], delivered: true, event: { args: ["acme", "sales"], channel: { id: inProgress.id } } });
  expect(asterisk.channelsInApp(APPS[0])).toEqual([]);
  // What was typed to the dead agent is lost: the caller types the id again.
  await asterisk.sendDtmf(inProgress.id, "1357", { gapMs: 20 });
  await asterisk.waitForChannelState(inProgress.id, "continued", 5000);
  expect(asterisk.channelState(inProgress.id)).toMatchObject({ context: "to-campaign", extension: "10" });
  expect(asterisk.channelVars(inProgress.id)).toMatchObject({ CUSTOMER_ID: "1357", CRM_BRIDGE_OUTCOME: "success" });
  await b.waitFor(/its call moved here/);

  // New calls fail over to b at once (a's Stasis() fails) and are served in full.
  for (const digits of ["4321", "8765"]) {
    const next = dial();
    expect(next.app).toBe(APPS[1]);
    await prompted(next.id);
    await asterisk.sendDtmf(next.id, digits, { gapMs: 20 });
    await asterisk.waitForChannelState(next.id, "continued", 5000);
    expect(asterisk.channelState(next.id)).toMatchObject({ context: "to-campaign", extension: "10" });
    expect(asterisk.channelVars(next.id)).toMatchObject({ CUSTOMER_ID: digits, CRM_BRIDGE_OUTCOME: "success" });
  }
  // A restarted: back at the head of the dialplan, and b stops counting it down.
  const a2 = startAgentProcess(APPS[0], APPS[1]);
  await asterisk.waitForApp(APPS[0], 20_000);
  await b.waitFor(/peer agent back/, 10_000);
  const back = dial();
  expect(back.app).toBe(APPS[0]);
  await prompted(back.id);
  await asterisk.sendDtmf(back.id, "2468", { gapMs: 20 });
  await asterisk.waitForChannelState(back.id, "continued", 5000);
  expect(asterisk.channelVars(back.id)).toMatchObject({ CUSTOMER_ID: "2468", CRM_BRIDGE_OUTCOME: "success" });

  // Every line either agent printed is JSON.
  for (const p of [a, b, a2]) for (const l of p.output.filter(Boolean)) expect(() => JSON.parse(l)).not.toThrow();
}, 60_000);

it("kill -9 mid-call and the survivor's move is refused: the call goes to its failure destination, nothing stays in Stasis", async () => {
  const apps = ["crm-bridge-c", "crm-bridge-d"] as const;
  const [c, d] = await startPair(apps);
  const call = dial(apps);
  expect(call.app).toBe(apps[0]);
  await prompted(call.id);
  // ast_ari_channels_move()'s own error when stasis_app_control_move() fails.
  asterisk.override((r) => (r.method === "POST" && r.path === `/channels/${call.id}/move` ? { status: 500, body: { message: "Failed to switch Stasis applications" } } : undefined));
  try {
    c.child.kill("SIGKILL");
    await c.stop("SIGKILL");
    await asterisk.waitForChannelState(call.id, "continued", DEAD_MS + 5000);
    expect(asterisk.channelState(call.id)).toMatchObject({ context: "crm-bridge-route", extension: "3-20" });
    expect(asterisk.channelVars(call.id).CRM_BRIDGE_OUTCOME).toBe("failure");
    expect(asterisk.commands.some((x) => x.path === `/channels/${call.id}/move` && x.status === 500)).toBe(true);
    expect(asterisk.channelsInApp(apps[0])).toEqual([]);
    expect(asterisk.channelsInApp(apps[1])).toEqual([]);
    await d.waitFor(/cannot move its call here/);
    const line = d.output.find((l) => l.includes("cannot move its call here"))!;
    expect(JSON.parse(line)).toMatchObject({ callId: call.id, tenant: "acme", node: "sales", reason: expect.stringContaining("Failed to switch Stasis applications") });
  } finally {
    asterisk.override(null);
  }
  // The survivor still takes new calls in full.
  const next = dial(apps);
  expect(next.app).toBe(apps[1]);
  await prompted(next.id);
  await asterisk.sendDtmf(next.id, "9753", { gapMs: 20 });
  await asterisk.waitForChannelState(next.id, "continued", 5000);
  expect(asterisk.channelVars(next.id)).toMatchObject({ CUSTOMER_ID: "9753", CRM_BRIDGE_OUTCOME: "success" });
}, 60_000);

it("a move answered 204 whose StasisStart never comes (ApplicationMoveFailed goes to the dead app): failure destination after moveStartMs", async () => {
  const fake = await startFakeAsterisk({ playbackMs: 100, app: "crm-bridge-y" });
  // The dead peer: its app held a call when its WebSocket went away (kill -9).
  const dead = await connectRawApp(fake, "crm-bridge-x");
  const id = fake.placeCall({ app: "crm-bridge-x", args: ["acme", "plain"] });
  dead.close();
  await fake.waitFor(() => !fake.isConnected("crm-bridge-x"), 2000, "crm-bridge-x inactive");
  // Accepted but never carried out: what the survivor sees when Asterisk cannot find its app at move time.
  fake.override((r) => (r.path === `/channels/${id}/move` ? { status: 204 } : undefined));
  const rig = await startRig({
    existingAsterisk: fake,
    peers: { apps: ["crm-bridge-x"], deadMs: 300 },
    agent: { moveStartMs: 400 },
    nodesFile: { acme: { plain: { name: "plain", interaction: "none", audio: "sound:prompt", expectedLength: 4, timeoutSeconds: 5, successDestination: SUCCESS, failureDestination: FAILURE, attempts: 1, confirm: false, identifyBy: "dtmf", confirmCaller: false } } },
  });
  try {
    const startedAt = Date.now();
    expect(await rig.report(id)).toMatchObject({ outcome: "failure", reason: "orphaned" });
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(400);
    expect(fake.channelState(id)).toMatchObject({ state: "continued", context: "crm-bridge-route", extension: "3-20" });
    expect(fake.channelsInApp("crm-bridge-x")).toEqual([]);
    const line = rig.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === "peer agent down: cannot move its call here; sending it to its failure destination");
    expect(line).toMatchObject({ callId: id, tenant: "acme", node: "plain", reason: "no StasisStart within 400 ms" });
  } finally {
    await rig.close();
  }
});

it("a move answered 409 (the call left Stasis: the peer, only slow, routed it): not routed a second time", async () => {
  const fake = await startFakeAsterisk({ playbackMs: 100, app: "crm-bridge-w" });
  const slow = await connectRawApp(fake, "crm-bridge-v");
  const id = fake.placeCall({ app: "crm-bridge-v", args: ["acme", "plain"] });
  slow.close();
  await fake.waitFor(() => !fake.isConnected("crm-bridge-v"), 2000, "crm-bridge-v inactive");
  // find_control()'s answer for a channel no longer in any Stasis app; the fake does not carry the move out.
  fake.override((r) => (r.path === `/channels/${id}/move` ? { status: 409, body: { message: "Channel not in Stasis application" } } : undefined));
  const rig = await startRig({
    existingAsterisk: fake,
    peers: { apps: ["crm-bridge-v"], deadMs: 300 },
    agent: { moveStartMs: 400 },
    nodesFile: { acme: { plain: { name: "plain", interaction: "none", audio: "sound:prompt", expectedLength: 4, timeoutSeconds: 5, successDestination: SUCCESS, failureDestination: FAILURE, attempts: 1, confirm: false, identifyBy: "dtmf", confirmCaller: false } } },
  });
  try {
    await fake.waitForCommand((c) => c.path === `/channels/${id}/move`, 5000);
    await new Promise((r) => setTimeout(r, 1000));
    expect(fake.commands.filter((c) => c.path.startsWith(`/channels/${id}/`) && c.method === "POST" && c.path !== `/channels/${id}/move`)).toEqual([]);
    expect(rig.reports.filter((r) => r.callId === id)).toEqual([]);
    expect(rig.logs.some((l) => l.includes("left Stasis before the move"))).toBe(true);
  } finally {
    fake.override(null);
    await rig.close();
  }
});

it("ARI_PEER_APPS naming an app nobody runs (a typo): one 'peer agent down' line, no takeover attempt, no log spam, calls served", async () => {
  const rig = await startRig({
    peers: { apps: ["crm-bridge-typo"], deadMs: 300 },
    nodesFile: { acme: { plain: { name: "plain", interaction: "none", audio: "sound:prompt", expectedLength: 4, timeoutSeconds: 5, successDestination: SUCCESS, failureDestination: FAILURE, attempts: 1, confirm: false, identifyBy: "dtmf", confirmCaller: false } } },
  });
  try {
    await new Promise((r) => setTimeout(r, 1500));
    const id = rig.asterisk.placeCall({ args: ["acme", "plain"] });
    await rig.asterisk.waitForEvent("PlaybackStarted");
    await rig.asterisk.sendDtmf(id, "1234", { gapMs: 10 });
    expect(await rig.report(id)).toMatchObject({ outcome: "success" });
    const warned = rig.logs.map((l) => JSON.parse(l) as { level: string; msg: string }).filter((l) => l.level === "warn" || l.level === "error");
    expect(warned.map((l) => l.msg)).toEqual(["peer agent down: taking over the calls left in its app"]);
    // Asterisk knows no such app: the listing is a 404 each beat, and nothing is moved.
    expect(rig.asterisk.commands.some((c) => c.path === "/applications/crm-bridge-typo" && c.status === 404)).toBe(true);
    expect(rig.asterisk.commands.some((c) => c.path.endsWith("/move"))).toBe(false);
  } finally {
    await rig.close();
  }
});
