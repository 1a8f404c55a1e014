/**
 * The DTMF collection of one try, as a pure state machine: Asterisk's Read() rules that
 * OMniLeads' node uses (SPEC 6 step 2). Input ends at `expectedLength` digits, at `#`, or
 * when `timeoutMs` pass with the prompt over and no new digit. Like Read(), the wait restarts
 * on each digit, so a caller typing a long id at a steady pace is never cut off mid-id.
 * A digit while the prompt plays is barge-in: the prompt is stopped and the digit counts.
 *
 * The machine never reads a clock or sets a timer: events carry their time, and the
 * `armTimer` action asks the driver for a `timer` event at a given time.
 */

export type CollectSettings = {
  expectedLength?: number | null | undefined;
  timeoutMs: number;
  /** Read() would keep reading; past this nothing can be a valid id, so stop listening. */
  maxDigits?: number;
};

export type EndedBy = "length" | "hash" | "timeout" | "max";
export type CollectResult = { digits: string; endedBy: EndedBy; endedAt: number };

export type CollectEvent =
  | { type: "start"; at: number; prompt: boolean }
  | { type: "dtmf"; at: number; digit: string }
  | { type: "promptEnded"; at: number }
  | { type: "timer"; at: number };

export type CollectAction = { type: "stopPrompt" } | { type: "armTimer"; at: number } | { type: "done"; result: CollectResult };

export type CollectState = {
  phase: "idle" | "prompting" | "waiting" | "done";
  digits: string;
  /** When the wait ends, once the prompt is over. */
  deadline: number | null;
  result: CollectResult | null;
};

export const DEFAULT_MAX_DIGITS = 31;
const DTMF = /^[0-9*#A-D]$/;

export function initialCollectState(): CollectState {
  return { phase: "idle", digits: "", deadline: null, result: null };
}

function finish(state: CollectState, endedBy: EndedBy, at: number, digits = state.digits): [CollectState, CollectAction[]] {
  const result: CollectResult = { digits, endedBy, endedAt: at };
  return [{ phase: "done", digits, deadline: null, result }, [{ type: "done", result }]];
}

function wait(state: CollectState, at: number, s: CollectSettings, extra: CollectAction[] = []): [CollectState, CollectAction[]] {
  const deadline = at + s.timeoutMs;
  return [{ ...state, phase: "waiting", deadline }, [...extra, { type: "armTimer", at: deadline }]];
}

/** One step: the next state and what the driver must do. Events after `done` change nothing. */
export function stepCollect(state: CollectState, event: CollectEvent, s: CollectSettings): [CollectState, CollectAction[]] {
  if (state.phase === "done") return [state, []];
  switch (event.type) {
    case "start":
      if (state.phase !== "idle") return [state, []];
      return event.prompt ? [{ ...state, phase: "prompting" }, []] : wait(state, event.at, s);
    case "promptEnded":
      return state.phase === "prompting" ? wait(state, event.at, s) : [state, []];
    case "timer":
      if (state.phase === "waiting" && state.deadline !== null && event.at >= state.deadline) return finish(state, "timeout", event.at);
      return [state, []];
    case "dtmf": {
      if (state.phase === "idle" || !DTMF.test(event.digit)) return [state, []];
      const bargeIn: CollectAction[] = state.phase === "prompting" ? [{ type: "stopPrompt" }] : [];
      if (event.digit === "#") {
        const [next, actions] = finish(state, "hash", event.at);
        return [next, [...bargeIn, ...actions]];
      }
      const digits = state.digits + event.digit;
      const next = { ...state, digits };
      let ended: [CollectState, CollectAction[]] | null = null;
      if (s.expectedLength != null && digits.length >= s.expectedLength) ended = finish(next, "length", event.at);
      else if (digits.length >= (s.maxDigits ?? DEFAULT_MAX_DIGITS)) ended = finish(next, "max", event.at);
      if (ended) return [ended[0], [...bargeIn, ...ended[1]]];
      return wait(next, event.at, s, bargeIn);
    }
  }
}

/** Runs a whole list of events (tests, traces); stops at the first `done`. */
export function collectFromEvents(events: CollectEvent[], s: CollectSettings): { state: CollectState; actions: CollectAction[] } {
  let state = initialCollectState();
  const actions: CollectAction[] = [];
  for (const ev of events) {
    const [next, acts] = stepCollect(state, ev, s);
    state = next;
    actions.push(...acts);
    if (state.phase === "done") break;
  }
  return { state, actions };
}
