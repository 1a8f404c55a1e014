import { describe, expect, it } from "vitest";
import { runSoak } from "../../scripts/soak.js";

describe("soak (the 30-second CI version of npm run soak)", () => {
  it("routes every call, none wrongly, through CRM chaos, an edge restart and an ARI WebSocket drop", async () => {
    const r = await runSoak({ seconds: 30, rate: 6 });
    console.log(`soak: ${JSON.stringify(r)}`);
    expect(r.agentAlive).toBe(true);
    expect(r.leakyLogLines).toBe(0);
    expect(r.placed).toBeGreaterThanOrEqual(165);
    expect(r.routed, r.unroutedSamples.join("\n")).toBe(r.placed);
    expect(r.wrong, r.wrongSamples.join("\n")).toBe(0);
    expect(r.right).toBeGreaterThan(r.placed * 0.6);
  }, 180_000);
});
