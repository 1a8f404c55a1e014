import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startFakeAsterisk, type FakeAsterisk } from "../fake-asterisk/index.js";
import { startTs, type Proc } from "../support/processes.js";
import { startFakeEdge, type FakeEdge } from "./support/fake-edge.js";
import { DESTINATIONS, FAILURE, SUCCESS } from "./support/rig.js";

// Two real agent processes on one (fake) Asterisk, each with its own Stasis app, as in
// pbx-agent/asterisk/extensions.conf: Stasis(crm-bridge-a) and, when that fails, Stasis(crm-bridge-b).
const APPS = ["crm-bridge-a", "crm-bridge-b"] as const;
const DEAD_MS = 1200;

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
  const p = startTs("pbx-agent/src/main.ts", {
    ARI_URL: asterisk.url,
    ARI_USERNAME: asterisk.username,
    ARI_PASSWORD: asterisk.password,
    ARI_APP: app,
    ARI_PEER_APPS: peer,
    ARI_PEER_DEAD_MS: String(DEAD_MS),
    ARI_RECONNECT_MAX_MS: "200",
    EDGE_URL: edge.url,
    EDGE_KEY: edge.key,
    DESTINATIONS_FILE: join(dir, "destinations.json"),
    STATE_DIR: join(dir, `state-${app}`),
    METRICS_PORT: "0",
    LOG_LEVEL: "info",
  });
  agents.push(p);
  return p;
}

/** The sample dialplan: the first app whose Stasis() does not fail takes the call. */
function dial(): { id: string; app: string } {
  for (const app of APPS) {
    try {
      return { id: asterisk.placeCall({ app, args: ["acme", "sales"] }), app };
    } catch {
      // STASISSTATUS=FAILED: the app is not active; the dialplan tries the next one.
    }
  }
  throw new Error("no agent app active");
}

const prompted = (id: string) => asterisk.waitForEvent("PlaybackStarted", (e) => (e.event as { playback?: { target_uri?: string } }).playback?.target_uri === `channel:${id}`, 10_000);

it("kill -9 of one agent mid-call: its call is routed by the other, new calls keep landing", async () => {
  const a = startAgentProcess(APPS[0], APPS[1]);
  const b = startAgentProcess(APPS[1], APPS[0]);
  await asterisk.waitForApp(APPS[0], 20_000);
  await asterisk.waitForApp(APPS[1], 20_000);
  // Both beating before the kill, so b knows a as alive.
  await b.waitFor(/"msg":"ari connected"/);
  await new Promise((r) => setTimeout(r, DEAD_MS));

  const inProgress = dial();
  expect(inProgress.app).toBe(APPS[0]);
  await prompted(inProgress.id);
  await asterisk.sendDtmf(inProgress.id, "12", { gapMs: 20 }); // the caller is typing
  // While both beat, b leaves a's call alone, however long it takes.
  await new Promise((r) => setTimeout(r, DEAD_MS * 2));
  expect(asterisk.channelState(inProgress.id).state).toBe("inStasis");
  expect(b.output.some((l) => l.includes("peer agent down"))).toBe(false);

  a.child.kill("SIGKILL");
  await a.stop("SIGKILL");
  // The channel stays in the dead agent's app (trace 03); the survivor routes it.
  const killedAt = Date.now();
  await asterisk.waitForChannelState(inProgress.id, "continued", DEAD_MS + 5000);
  expect(Date.now() - killedAt).toBeLessThan(DEAD_MS + 4000);
  expect(asterisk.channelState(inProgress.id)).toMatchObject({ context: "crm-bridge-route", extension: "3-20" });
  expect(asterisk.channelVars(inProgress.id).CRM_BRIDGE_OUTCOME).toBe("failure");
  await b.waitFor(/peer agent down/);

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
