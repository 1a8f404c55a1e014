import { afterAll, beforeAll, expect, it } from "vitest";
import { startRig, SUCCESS, type Rig } from "./support/rig.js";

const DIGIT_MS = 1500;
let rig: Rig;
beforeAll(async () => {
  // Each read-back digit plays 1.5 s: a route that waited for the whole read-back would take 6 s.
  rig = await startRig({ asterisk: { playbackMs: (m) => (m.startsWith("sound:digits/") ? DIGIT_MS : 100) } });
});
afterAll(() => rig.close());

it("confirming during the read-back stops it and routes at once", async () => {
  rig.node("rb", { name: "rb", interaction: "none", confirm: true, expectedLength: 4, successDestination: SUCCESS, failureDestination: { type: 3, id: 20 } });
  const id = rig.call("rb");
  await rig.playback(id, "PlaybackFinished");
  await rig.asterisk.sendDtmf(id, "4321", { gapMs: 10 });
  const readBack = await rig.playback(id, "PlaybackStarted", 1);
  expect(readBack.media).toBe("sound:digits/4");
  const pressed = Date.now();
  await rig.asterisk.sendDtmf(id, "1");
  await rig.asterisk.waitForChannelState(id, "continued", DIGIT_MS);
  expect(Date.now() - pressed).toBeLessThan(DIGIT_MS);
  // The fake, like Asterisk, refuses to stop `digits:` media: the read-back must not use it.
  const stops = rig.asterisk.commands.filter((c) => c.method === "DELETE" && c.path === `/playbacks/${readBack.id}`);
  expect(stops.map((c) => c.status)).toEqual([204]);
  expect(rig.asterisk.events.some((e) => (e.event as { playback?: { media_uri?: string } }).playback?.media_uri?.startsWith("digits:"))).toBe(false);
  expect(rig.asterisk.channelVars(id)).toMatchObject({ CUSTOMER_ID: "4321" });
});
