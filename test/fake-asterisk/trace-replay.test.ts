// Each recorded Asterisk 22.10.1 trace, replayed against the fake: the same
// events (types, fields, states, order) and the same REST answers (status and
// body), modulo ids and timestamps. The ARI contract suite then runs on both
// the recordings and the fake's replays.

import { afterAll, describe, expect, it } from "vitest";
import { ariContractSuite } from "./contract.js";
import { ariClientDriver, rawDriver, replayOnFake } from "./replay.js";
import { startFakeAsterisk } from "./server.js";
import type { FakeAsterisk } from "./server.js";
import { eventsOf, loadTrace, normalize, restOf, TRACE_NAMES } from "./transcript.js";
import type { TraceName, Transcript } from "./transcript.js";

const fakes: FakeAsterisk[] = [];
const replays = new Map<string, Promise<Transcript>>();

/** One replay per trace and driver, shared by the equality tests and the contract suite. */
function replayed(name: TraceName, via: "raw" | "ari-client" = "raw"): Promise<Transcript> {
  const key = `${via}:${name}`;
  let p = replays.get(key);
  if (!p) {
    p = (async () => {
      // Prompts never end by themselves within a replay: the trace decides when they stop.
      const fake = await startFakeAsterisk({ playbackMs: 60_000 });
      fakes.push(fake);
      return replayOnFake(loadTrace(name), fake, via === "raw" ? rawDriver() : ariClientDriver());
    })();
    replays.set(key, p);
  }
  return p;
}

afterAll(async () => {
  await Promise.all(fakes.map((f) => f.close()));
});

const restOnly = (t: Transcript): unknown[] => normalize(restOf(t).map(({ app: _a, ...r }) => r));
const eventsOnly = (t: Transcript): unknown[] => normalize(eventsOf(t));

describe("trace replay (raw HTTP and WebSocket, the recorded requests byte for byte)", () => {
  for (const name of TRACE_NAMES) {
    it(`${name}: the fake sends the recorded events and gives the recorded answers`, async () => {
      const trace = loadTrace(name);
      const got = await replayed(name);
      expect(eventsOnly(got)).toEqual(eventsOnly(trace));
      expect(restOnly(got)).toEqual(restOnly(trace));
    });
  }

  it("is not vacuous: a fake that differs from Asterisk in one detail fails the comparison", async () => {
    const fake = await startFakeAsterisk({ playbackMs: 60_000, channelVarsetEvents: false, language: "en" });
    fakes.push(fake);
    const trace = loadTrace("01-barge-in-and-continue");
    const got = await replayOnFake(trace, fake);
    expect(eventsOnly(got)).not.toEqual(eventsOnly(trace));
    expect(restOnly(got)).not.toEqual(restOnly(trace));
  });
});

describe("trace replay through ari-client 2.2 (the requests the agent's library builds)", () => {
  // 04 starts with a wrong-password call, which ari-client cannot make without
  // breaking its process-wide credentials: the raw replay above covers it.
  for (const name of TRACE_NAMES.filter((n) => n !== "04-errors")) {
    it(`${name}: same requests, events and answers as recorded`, async () => {
      const trace = loadTrace(name);
      const got = await replayed(name, "ari-client");
      expect(eventsOnly(got)).toEqual(eventsOnly(trace));
      expect(restOnly(got)).toEqual(restOnly(trace));
    });
  }
});

ariContractSuite("recorded from Asterisk 22.10.1", async (name) => loadTrace(name));
ariContractSuite("fake Asterisk, scenarios replayed over raw HTTP", (name) => replayed(name, "raw"));
ariContractSuite("fake Asterisk, scenarios driven by ari-client (04 over raw HTTP)", (name) => replayed(name, name === "04-errors" ? "raw" : "ari-client"));
