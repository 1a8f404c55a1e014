import type { CallChannel, Playback } from "./call-channel.js";
import { CallStopped, stopOf } from "./call-channel.js";
import { initialCollectState, stepCollect, type CollectAction, type CollectEvent, type CollectResult, type CollectSettings } from "./collect-digits.js";

/**
 * Plays `prompt` (null: none) and collects one try of digits on `channel`, driving the pure
 * collector with real timers. Everything it starts (DTMF listener, timer, abort listener,
 * playback) is released before it settles. Rejects with CallStopped when the call stops.
 * `typed`: keys the caller pressed before this try listened (during a caller-number lookup);
 * they count as if pressed when it starts, so the wait for the next key is a full one.
 */
export function readDigits(channel: CallChannel, prompt: string | null, settings: CollectSettings, now: () => number, typed: ReadonlyArray<{ digit: string; at: number }> = []): Promise<CollectResult> {
  return new Promise<CollectResult>((resolve, reject) => {
    const stop = stopOf(channel.signal);
    if (stop) return reject(new CallStopped(stop));
    let state = initialCollectState();
    let timer: NodeJS.Timeout | undefined;
    let playback: Playback | null = null;
    let playing = false;
    let settled = false;

    const release = () => {
      settled = true;
      clearTimeout(timer);
      offDtmf();
      channel.signal.removeEventListener("abort", onAbort);
    };
    const apply = (actions: CollectAction[]) => {
      for (const a of actions) {
        if (a.type === "stopPrompt" && playing) {
          playing = false;
          playback?.stop();
        } else if (a.type === "armTimer") {
          clearTimeout(timer);
          timer = setTimeout(() => run({ type: "timer", at: Math.max(now(), a.at) }), Math.max(0, a.at - now()));
        } else if (a.type === "done") {
          release();
          resolve(a.result);
        }
      }
    };
    const run = (ev: CollectEvent) => {
      if (settled) return;
      const [next, actions] = stepCollect(state, ev, settings);
      state = next;
      apply(actions);
    };
    const onAbort = () => {
      if (settled) return;
      release();
      // On hang-up the channel is gone (trace 02: every command is then 404); only a shutdown stops the prompt.
      const s = stopOf(channel.signal) ?? { code: "hangup" as const };
      if (s.code !== "hangup" && playing) playback?.stop();
      reject(new CallStopped(s));
    };
    const offDtmf = channel.onDtmf((digit, at) => run({ type: "dtmf", digit, at }));
    channel.signal.addEventListener("abort", onAbort, { once: true });

    const startedAt = now();
    run({ type: "start", at: startedAt, prompt: prompt !== null });
    for (const t of typed) run({ type: "dtmf", digit: t.digit, at: Math.max(t.at, startedAt) });
    if (prompt !== null && !settled) {
      playing = true;
      playback = channel.play(prompt);
      void playback.ended.then(() => {
        playing = false;
        run({ type: "promptEnded", at: now() });
      });
    }
  });
}
