// Each recorded Asterisk 22.10.1 trace, replayed against the fake: the same
// events (types, fields, states, order) and the same REST answers (status and
// body), modulo ids and timestamps. The ARI contract suite then runs on both
// the recordings and the fake's replays.

import { afterAll, describe, expect, it } from "vitest";
import { ariContractSuite } from "./contract.js";
import { replayOnFake } from "./replay.js";
import { startFakeAsterisk } from "./server.js";
import type { FakeAsterisk } from "./server.js";
import { eventsOf, loadTrace, normalize, restOf, TRACE_NAMES } from "./transcript.js";
import type { TraceName, Transcript } from "./transcript.js";

const fakes: FakeAsterisk[] = [];
const replays = new Map<TraceName, Promise<Transcript>>();

/** One replay per trace, shared by the equality test and the contract suite. */
function replayed(name: TraceName): Promise<Transcript> {
  let p = replays.get(name);
  if (!p) {
    p = (async () => {
      // Prompts never end by themselves within a replay: the trace decides when they stop.
      const fake = await startFakeAsterisk({ playbackMs: 60_000 });
      fakes.push(fake);
      return replayOnFake(loadTrace(name), fake);
    })();
    replays.set(name, p);
  }
  return p;
}

afterAll(async () => {
  await Promise.all(fakes.map((f) => f.close()));
});

describe("trace replay", () => {
  for (const name of TRACE_NAMES) {
    it(`${name}: the fake sends the recorded events and gives the recorded answers`, async () => {
      const trace = loadTrace(name);
      const got = await replayed(name);
      expect(normalize(eventsOf(got))).toEqual(normalize(eventsOf(trace)));
      const strip = (t: Transcript): Transcript => restOf(t).map(({ app: _a, ...r }) => r);
      expect(normalize(strip(got))).toEqual(normalize(strip(trace)));
    });
  }
});

ariContractSuite("recorded from Asterisk 22.10.1", async (name) => loadTrace(name));
ariContractSuite("fake Asterisk replaying the same scenarios", replayed);
