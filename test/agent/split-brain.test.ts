import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startFakeAsterisk, type FakeAsterisk } from "../fake-asterisk/index.js";
import type { Proc } from "../support/processes.js";
import { startFakeEdge, type FakeEdge } from "./support/fake-edge.js";
import { PEER_APPS, PEER_DEAD_MS, startPeerAgent, startPeerPair } from "./support/peer-agent.js";
import { DESTINATIONS, FAILURE, SUCCESS } from "./support/rig.js";

// Split brain: agent A is not dead, only frozen (SIGSTOP: a VM paused, a GC or swap storm) for
// longer than ARI_PEER_DEAD_MS. Its WebSocket stays open, so Asterisk queues its events; B sees
// its heartbeat stop and moves its calls away. When A thaws, its expired timers run before it
// reads the queued StasisEnds, and ARI takes commands by channel id from any connection: a
// `continue` A sends then routes a call B is serving.
const APPS = PEER_APPS;
const DEAD_MS = PEER_DEAD_MS;
const EDGE_TIMEOUT_MS = 1500;

let asterisk: FakeAsterisk;
let edge: FakeEdge;
let dir: string;
const agents: Proc[] = [];
beforeAll(async () => {
  // The "long" node's prompt is still playing when A freezes (B's move waits behind it).
  asterisk = await startFakeAsterisk({ playbackMs: (m) => (m === "sound:long" ? 2500 : m === "sound:longer" ? 9000 : 150), app: APPS[0] });
  edge = await startFakeEdge();
  dir = mkdtempSync(join(tmpdir(), "agent-split-"));
  writeFileSync(join(dir, "destinations.json"), JSON.stringify(DESTINATIONS));
  const base = { expectedLength: 4, timeoutSeconds: 30, successDestination: SUCCESS, failureDestination: FAILURE };
  edge.setNode("acme", "crm", { name: "crm", interaction: "crm_true_false", connector: "crm", audio: "sound:prompt", ...base });
  edge.setNode("acme", "long", { name: "long", interaction: "none", audio: "sound:long", ...base });
  edge.setNode("acme", "longer", { name: "longer", interaction: "none", audio: "sound:longer", ...base });
  // The id typed to A never gets an answer: A is mid-request when it freezes.
  edge.setIdentify("acme", "crm", (id) => (id === "1111" ? { hang: true } : { reply: { status: "ok", destination: "true" } }));
});
afterAll(async () => {
  for (const a of agents) {
    a.child.kill("SIGCONT");
    await a.stop("SIGKILL");
  }
  await asterisk.close();
  await edge.close();
});

function startAgentProcess(app: string, peer: string): Proc {
  const p = startPeerAgent({ asterisk, edge, dir, app, peer, deadMs: DEAD_MS, env: { EDGE_TIMEOUT_MS: String(EDGE_TIMEOUT_MS) } });
  agents.push(p);
  return p;
}

const playbackFor = (type: "PlaybackStarted" | "PlaybackFinished", id: string, after = 0) =>
  asterisk.waitForEvent(type, (e) => e.seq > after && (e.event as { playback?: { target_uri?: string } }).playback?.target_uri === `channel:${id}`, 10_000);
const commandsFor = (id: string, path: string) => asterisk.commands.filter((c) => c.path === `/channels/${id}/${path}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const startPair = (apps: readonly [string, string]) => startPeerPair(asterisk, startAgentProcess, apps);

it("an agent frozen past ARI_PEER_DEAD_MS sends nothing for the calls its peer took meanwhile: each call is routed once, by the peer", async () => {
  const [a, b] = await startPair(APPS);

  // Mid-edge-request: the caller typed an id, A asked the edge, no answer yet.
  const midRequest = asterisk.placeCall({ app: APPS[0], args: ["acme", "crm"] });
  await playbackFor("PlaybackFinished", midRequest);
  await asterisk.sendDtmf(midRequest, "1111", { gapMs: 20 });
  await asterisk.waitFor(() => edge.requests.some((r) => r.body.includes("idContact=1111")), 5000, "A's edge request");
  // Mid-prompt: A's prompt is playing.
  const midPrompt = asterisk.placeCall({ app: APPS[0], args: ["acme", "long"] });
  await playbackFor("PlaybackStarted", midPrompt);

  const mark = asterisk.events.at(-1)?.seq ?? 0;
  a.child.kill("SIGSTOP");
  // B sees A's heartbeat stop and moves both calls into its app (the mid-prompt one once the prompt is over).
  for (const id of [midRequest, midPrompt]) {
    await asterisk.waitForEvent("StasisStart", (e) => e.seq > mark && e.app === APPS[1] && (e.event as { channel?: { id?: string } }).channel?.id === id, DEAD_MS + 6000);
    await playbackFor("PlaybackStarted", id, mark);
  }
  expect(asterisk.channelsInApp(APPS[0])).toEqual([]);
  // Frozen past A's own edge deadline: when A thaws, the deadline timer is the first thing it runs.
  await sleep(EDGE_TIMEOUT_MS);
  a.child.kill("SIGCONT");
  await b.waitFor(/peer agent back/, 10_000);
  await sleep(1000);

  // The callers, now served by B from the prompt, type their ids to B.
  await asterisk.sendDtmf(midRequest, "2222", { gapMs: 20 });
  await asterisk.sendDtmf(midPrompt, "3333", { gapMs: 20 });
  for (const [id, digits] of [
    [midRequest, "2222"],
    [midPrompt, "3333"],
  ] as const) {
    await asterisk.waitForChannelState(id, "continued", 5000);
    expect(asterisk.channelState(id)).toMatchObject({ context: "to-campaign", extension: "10" });
    expect(asterisk.channelVars(id)).toMatchObject({ CUSTOMER_ID: digits, CRM_BRIDGE_OUTCOME: "success" });
    // One routing: one `continue`, and every routing variable set once (none of A's left behind).
    expect(commandsFor(id, "continue")).toHaveLength(1);
    const outcomes = commandsFor(id, "variable").filter((c) => c.method === "POST" && c.query.variable === "CRM_BRIDGE_OUTCOME");
    expect(outcomes).toHaveLength(1);
  }

  // A logged both calls as gone from its app, did not crash, and serves new calls in full.
  const reports = a.output.flatMap((l) => {
    const j = JSON.parse(l) as { msg?: string; callId?: string; outcome?: string };
    return j.msg === "call" ? [j] : [];
  });
  expect(reports.filter((r) => r.callId === midRequest || r.callId === midPrompt).map((r) => r.outcome)).toEqual(["abandoned", "abandoned"]);
  expect(a.output.some((l) => l.includes("crashed"))).toBe(false);
  const next = asterisk.placeCall({ app: APPS[0], args: ["acme", "crm"] });
  await playbackFor("PlaybackStarted", next);
  await asterisk.sendDtmf(next, "4444", { gapMs: 20 });
  await asterisk.waitForChannelState(next, "continued", 5000);
  expect(asterisk.channelVars(next)).toMatchObject({ CUSTOMER_ID: "4444", CRM_BRIDGE_OUTCOME: "success" });
  expect(commandsFor(next, "move")).toEqual([]);
}, 60_000);

it("A restarted while B's move of its call waits behind A's prompt: A's orphan sweep does not route the call B is taking", async () => {
  const apps = ["crm-bridge-c", "crm-bridge-d"] as const;
  const [c] = await startPair(apps);

  const id = asterisk.placeCall({ app: apps[0], args: ["acme", "longer"] });
  await playbackFor("PlaybackStarted", id);
  const promptAt = Date.now();
  await c.stop("SIGKILL");
  // D finds C down and sends the move, which waits on the channel's queue for C's 9 s prompt.
  await asterisk.waitForCommand((x) => x.path === `/channels/${id}/move`, DEAD_MS + 5000);
  const mark = asterisk.events.at(-1)?.seq ?? 0;
  // C restarts late enough that the prompt ends within the 5 s bound of the commands it queues
  // behind it (so it gets as far as its `continue`), early enough to find the channel still there.
  await sleep(promptAt + 4000 - Date.now());
  // C comes back meanwhile: its sweep finds the channel still in its app, nobody serving it there.
  const c2 = startAgentProcess(apps[0], apps[1]);
  await c2.waitFor(/channel already in the app on connect/, 20_000);
  // The prompt ends: the move runs first (it was queued first), then whatever C queued behind it.
  await asterisk.waitForEvent("StasisStart", (e) => e.seq > mark && e.app === apps[1], 15_000);
  await playbackFor("PlaybackStarted", id, mark);
  await sleep(500);
  await asterisk.sendDtmf(id, "5555", { gapMs: 20 });
  await asterisk.waitForChannelState(id, "continued", 5000);
  expect(asterisk.channelState(id)).toMatchObject({ context: "to-campaign", extension: "10" });
  expect(asterisk.channelVars(id)).toMatchObject({ CUSTOMER_ID: "5555", CRM_BRIDGE_OUTCOME: "success" });
  expect(commandsFor(id, "continue")).toHaveLength(1);
}, 60_000);
