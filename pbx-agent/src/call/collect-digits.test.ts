import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { collectFromEvents, initialCollectState, stepCollect, type CollectAction, type CollectResult, type CollectSettings, type CollectState } from "./collect-digits.js";

type Press = { at: number; digit: string };

/** Drives the machine like the ARI driver does, with a fake clock: key presses, the prompt's end, and the timers it asks for. */
function simulate(promptMs: number | null, presses: Press[], s: CollectSettings): { result: CollectResult; stops: number } {
  let state: CollectState = initialCollectState();
  let stops = 0;
  const timers: number[] = [];
  let promptStopped = false;
  const apply = (actions: CollectAction[]) => {
    for (const a of actions) {
      if (a.type === "armTimer") timers.push(a.at);
      if (a.type === "stopPrompt") {
        stops++;
        promptStopped = true;
      }
    }
  };
  const [s0, a0] = stepCollect(state, { type: "start", at: 0, prompt: promptMs !== null }, s);
  state = s0;
  apply(a0);
  const queue = [...presses].sort((a, b) => a.at - b.at);
  let promptPending = promptMs !== null;
  for (let guard = 0; guard < 10_000 && state.phase !== "done"; guard++) {
    timers.sort((a, b) => a - b);
    const nextTimer = timers[0] ?? Infinity;
    const nextPress = queue[0]?.at ?? Infinity;
    const nextPrompt = promptPending && !promptStopped ? promptMs! : Infinity;
    const t = Math.min(nextTimer, nextPress, nextPrompt);
    if (t === Infinity) break;
    let r: [CollectState, CollectAction[]];
    // At equal times: the prompt's end, then timers, then the key press (a digit exactly at the deadline is late).
    if (nextPrompt === t) {
      promptPending = false;
      r = stepCollect(state, { type: "promptEnded", at: t }, s);
    } else if (nextTimer === t) {
      timers.shift();
      r = stepCollect(state, { type: "timer", at: t }, s);
    } else {
      const p = queue.shift()!;
      r = stepCollect(state, { type: "dtmf", at: p.at, digit: p.digit }, s);
    }
    state = r[0];
    apply(r[1]);
  }
  if (!state.result) throw new Error("collector never finished");
  return { result: state.result, stops };
}

/** The rules written out plainly, to check the machine against. */
function reference(promptMs: number | null, presses: Press[], s: CollectSettings): CollectResult {
  const sorted = [...presses].sort((a, b) => a.at - b.at);
  const max = s.maxDigits ?? 31;
  let digits = "";
  let deadline: number | null = promptMs === null ? s.timeoutMs : null;
  for (const p of sorted) {
    if (deadline === null && p.at >= promptMs!) deadline = promptMs! + s.timeoutMs;
    if (deadline !== null && p.at >= deadline) return { digits, endedBy: "timeout", endedAt: deadline };
    if (p.digit === "#") return { digits, endedBy: "hash", endedAt: p.at };
    digits += p.digit;
    if (s.expectedLength != null && digits.length >= s.expectedLength) return { digits, endedBy: "length", endedAt: p.at };
    if (digits.length >= max) return { digits, endedBy: "max", endedAt: p.at };
    deadline = p.at + s.timeoutMs;
  }
  if (deadline === null) deadline = promptMs! + s.timeoutMs;
  return { digits, endedBy: "timeout", endedAt: deadline };
}

const pressArb = fc.record({ at: fc.integer({ min: 0, max: 40_000 }), digit: fc.constantFrom("0", "1", "2", "5", "9", "*", "#") });
const settingsArb = fc.record({
  expectedLength: fc.option(fc.integer({ min: 1, max: 30 }), { nil: null }),
  timeoutMs: fc.integer({ min: 1000, max: 10_000 }),
});

describe("collectDigits state machine", () => {
  it("matches the Read() rules for any prompt, key presses and settings", () => {
    fc.assert(
      fc.property(fc.option(fc.integer({ min: 0, max: 8000 }), { nil: null }), fc.array(pressArb, { maxLength: 40 }), settingsArb, (prompt, presses, s) => {
        // Distinct times: two key presses never land in the same millisecond on one channel.
        const seen = new Set<number>();
        const uniq = presses.filter((p) => (seen.has(p.at) ? false : (seen.add(p.at), true)));
        expect(simulate(prompt, uniq, s).result).toEqual(reference(prompt, uniq, s));
      }),
      { numRuns: 2000 },
    );
  });

  it("stops the prompt at most once, and only when a key is pressed during it", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8000 }), fc.array(pressArb, { maxLength: 20 }), settingsArb, (prompt, presses, s) => {
        const seen = new Set<number>();
        const uniq = presses.filter((p) => (seen.has(p.at) ? false : (seen.add(p.at), true)));
        const { stops } = simulate(prompt, uniq, s);
        const bargedIn = uniq.some((p) => p.at < prompt);
        expect(stops).toBe(bargedIn ? 1 : 0);
      }),
    );
  });

  it("never returns more than expectedLength digits, nor a '#'", () => {
    fc.assert(
      fc.property(fc.array(pressArb, { maxLength: 40 }), settingsArb, (presses, s) => {
        const seen = new Set<number>();
        const uniq = presses.filter((p) => (seen.has(p.at) ? false : (seen.add(p.at), true)));
        const { result } = simulate(null, uniq, s);
        expect(result.digits).not.toContain("#");
        if (s.expectedLength != null) expect(result.digits.length).toBeLessThanOrEqual(s.expectedLength);
      }),
    );
  });

  it("barge-in: the first digit during the prompt stops it and counts (trace 01)", () => {
    const s = { expectedLength: null, timeoutMs: 5000 };
    const { state, actions } = collectFromEvents(
      [
        { type: "start", at: 0, prompt: true },
        { type: "dtmf", at: 608, digit: "4" },
        { type: "promptEnded", at: 609 },
        { type: "dtmf", at: 828, digit: "3" },
        { type: "dtmf", at: 1049, digit: "2" },
        { type: "dtmf", at: 1269, digit: "1" },
        { type: "dtmf", at: 1489, digit: "#" },
      ],
      s,
    );
    expect(actions[0]).toEqual({ type: "stopPrompt" });
    expect(state.result).toEqual({ digits: "4321", endedBy: "hash", endedAt: 1489 });
  });

  it("ends at expectedLength without waiting for '#'", () => {
    const { state } = collectFromEvents(
      [
        { type: "start", at: 0, prompt: false },
        { type: "dtmf", at: 10, digit: "1" },
        { type: "dtmf", at: 20, digit: "2" },
        { type: "dtmf", at: 30, digit: "3" },
      ],
      { expectedLength: 3, timeoutMs: 5000 },
    );
    expect(state.result).toEqual({ digits: "123", endedBy: "length", endedAt: 30 });
  });

  it("times out timeoutSeconds after the prompt ends, not after it starts", () => {
    const s = { timeoutMs: 5000 };
    let [state, actions] = stepCollect(initialCollectState(), { type: "start", at: 0, prompt: true }, s);
    expect(actions).toEqual([]);
    [state] = stepCollect(state, { type: "timer", at: 5000 }, s);
    expect(state.phase).toBe("prompting");
    [state, actions] = stepCollect(state, { type: "promptEnded", at: 3000 }, s);
    expect(actions).toEqual([{ type: "armTimer", at: 8000 }]);
    [state] = stepCollect(state, { type: "timer", at: 7999 }, s);
    expect(state.phase).toBe("waiting");
    [state] = stepCollect(state, { type: "timer", at: 8000 }, s);
    expect(state.result).toEqual({ digits: "", endedBy: "timeout", endedAt: 8000 });
  });

  it("ignores events after it is done, and non-DTMF input", () => {
    const s = { expectedLength: 1, timeoutMs: 1000 };
    const { state } = collectFromEvents([{ type: "start", at: 0, prompt: false }, { type: "dtmf", at: 1, digit: "x" }, { type: "dtmf", at: 2, digit: "7" }], s);
    expect(state.result?.digits).toBe("7");
    expect(stepCollect(state, { type: "dtmf", at: 3, digit: "8" }, s)).toEqual([state, []]);
  });
});
