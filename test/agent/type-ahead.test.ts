import { afterAll, beforeAll, expect, it } from "vitest";
import { startRig, SUCCESS, type Rig } from "./support/rig.js";

let rig: Rig;
beforeAll(async () => {
  rig = await startRig({ asterisk: { playbackMs: 2000 } });
});
afterAll(() => rig.close());

it("keys typed as soon as the call enters Stasis, before the prompt starts, are counted", async () => {
  rig.node("eager", { name: "eager", interaction: "none", expectedLength: 4, timeoutSeconds: 2, successDestination: SUCCESS, failureDestination: { type: 3, id: 20 } });
  const id = rig.call("eager");
  // Sent with the StasisStart still in flight: the agent has not answered nor played yet.
  await rig.asterisk.sendDtmf(id, "4321");
  const report = await rig.report(id, 5000);
  expect(report.outcome).toBe("success");
  expect(rig.asterisk.channelVars(id)).toMatchObject({ CUSTOMER_ID: "4321" });
});
