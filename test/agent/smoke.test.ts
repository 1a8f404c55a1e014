import { afterAll, beforeAll, expect, it } from "vitest";
import { FAILURE, startRig, SUCCESS, type Rig } from "./support/rig.js";

let rig: Rig;
beforeAll(async () => {
  rig = await startRig();
});
afterAll(() => rig.close());

it("trace 01 shape: answer, prompt, barge-in, '#', variables, continue", async () => {
  rig.node("plain", { name: "Plain", interaction: "none", audio: "sound:hello-world", successDestination: SUCCESS, failureDestination: FAILURE });
  const id = rig.call("plain");
  await rig.playback(id, "PlaybackStarted");
  await rig.asterisk.sendDtmf(id, "4321#", { gapMs: 30 });
  const r = await rig.report(id);
  expect(r).toMatchObject({ outcome: "success", customerId: "**21" });
  expect(rig.asterisk.channelState(id)).toMatchObject({ state: "continued", context: "to-campaign", extension: "10", priority: 1 });
  expect(rig.asterisk.channelVars(id)).toMatchObject({ __OMLCODCLI: "4321", CUSTOMER_ID: "4321", CRM_BRIDGE_OUTCOME: "success", CRM_BRIDGE_DEST_TYPE: "1", CRM_BRIDGE_DEST_ID: "10" });
  const cmds = rig.commandsFor(id);
  expect(cmds.slice(0, 3)).toEqual(["POST /answer", "POST /play", expect.stringMatching(/^DELETE \/playbacks\//)]);
  // The variables are sent together; `continue` only once all are set.
  expect(cmds.slice(3, 8).sort()).toEqual([
    "POST /variable CRM_BRIDGE_DEST_ID=10",
    "POST /variable CRM_BRIDGE_DEST_TYPE=1",
    "POST /variable CRM_BRIDGE_OUTCOME=success",
    "POST /variable CUSTOMER_ID=4321",
    "POST /variable __OMLCODCLI=4321",
  ]);
  expect(cmds.slice(8)).toEqual(["POST /continue to-campaign,10,1"]);
});

it("trace 04: a missing sound fails at once and the wait for digits starts then", async () => {
  rig.node("missing", { name: "Missing", interaction: "none", audio: "sound:no-such-file", expectedLength: 2, timeoutSeconds: 1, successDestination: SUCCESS, failureDestination: FAILURE });
  const id = rig.call("missing");
  await rig.playback(id, "PlaybackFinished");
  await rig.asterisk.sendDtmf(id, "12");
  expect(await rig.report(id)).toMatchObject({ outcome: "success" });
  const silent = rig.call("missing");
  const started = Date.now();
  expect(await rig.report(silent)).toMatchObject({ outcome: "invalid" });
  expect(Date.now() - started).toBeLessThan(1500);
});
