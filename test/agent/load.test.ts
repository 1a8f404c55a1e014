import { afterAll, beforeAll, expect, it } from "vitest";
import { FAILURE, startRig, SUCCESS, until, type Rig } from "./support/rig.js";

/** Timers and handles of this process, by kind (Timeout, TCPSocketWrap, …). */
function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

let rig: Rig;
beforeAll(async () => {
  rig = await startRig({ edgeTimeoutMs: 1000, asterisk: { record: true, playbackMs: 50 } });
  rig.node("plain", { name: "plain", interaction: "none", audio: "sound:prompt", expectedLength: 4, timeoutSeconds: 3, successDestination: SUCCESS, failureDestination: FAILURE });
  rig.node("crm", { name: "crm", interaction: "crm_true_false", connector: "c", audio: "sound:prompt", expectedLength: 4, timeoutSeconds: 3, confirm: true, successDestination: SUCCESS, failureDestination: FAILURE });
  rig.edge.setIdentify("acme", "crm", (id) => (Number(id) % 2 === 0 ? { reply: { status: "ok", destination: "true" } } : { reply: { status: "ok", destination: "false" } }));
});
afterAll(() => rig.close());

it("200 concurrent calls: every one routed or abandoned, nothing left behind", async () => {
  const warm = rig.call("crm");
  await rig.playback(warm, "PlaybackFinished");
  await rig.asterisk.sendDtmf(warm, "1000");
  await rig.playback(warm, "PlaybackFinished", 1);
  await rig.asterisk.sendDtmf(warm, "1");
  await rig.report(warm);
  await new Promise((r) => setTimeout(r, 100));
  const before = { res: resources(), stats: rig.agent.stats() };
  rig.reports.length = 0;

  const N = 200;
  const ids = Array.from({ length: N }, (_, i) => ({ i, id: rig.call(i % 2 === 0 ? "plain" : "crm") }));
  await Promise.all(
    ids.map(async ({ i, id }) => {
      await rig.playback(id, "PlaybackFinished", 0, 20_000);
      if (i % 10 === 3) return rig.asterisk.hangup(id); // a few callers give up
      await rig.asterisk.sendDtmf(id, String(1000 + i), { gapMs: 5 });
      if (i % 2 === 1) {
        await rig.playback(id, "PlaybackStarted", 1, 20_000);
        await rig.asterisk.sendDtmf(id, "1");
      }
    }),
  );
  await until(() => rig.reports.length === N, 20_000, "all reports");
  const outcomes = rig.reports.reduce<Record<string, number>>((m, r) => ((m[r.outcome] = (m[r.outcome] ?? 0) + 1), m), {});
  expect(outcomes.abandoned).toBe(20);
  expect((outcomes.success ?? 0) + (outcomes.failure ?? 0)).toBe(180);
  for (const { i, id } of ids) {
    if (i % 10 === 3) continue;
    expect(rig.asterisk.channelState(id).state).toBe("continued");
  }
  expect(rig.agent.stats()).toEqual(before.stats);
  expect(rig.agent.activeCalls()).toBe(0);
  // Timers: back to what they were; sockets: keep-alive connections to the edge close on their own.
  await until(() => (resources().Timeout ?? 0) <= (before.res.Timeout ?? 0), 10_000, `timers back to ${before.res.Timeout} (now ${JSON.stringify(resources())})`);
  await until(() => (resources().TCPSocketWrap ?? 0) <= (before.res.TCPSocketWrap ?? 0) + 2, 15_000, `sockets back to ${before.res.TCPSocketWrap} (now ${JSON.stringify(resources())})`);
}, 60_000);
