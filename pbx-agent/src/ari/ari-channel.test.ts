import { EventEmitter } from "node:events";
import { describe, expect, it, vi } from "vitest";
import type { AriClient } from "./ari-client.js";
import { ARI_REST_TIMEOUT_MS, AriCalls, bounded } from "./ari-channel.js";

/** A stand-in for ari-client that records REST calls and answers them at once. */
function stubClient() {
  const sent: string[] = [];
  const ok = (what: string) => (p: object) => {
    sent.push(`${what} ${JSON.stringify(p)}`);
    return Promise.resolve(undefined);
  };
  const client = Object.assign(new EventEmitter(), {
    start: () => Promise.resolve(),
    stop: () => undefined,
    channels: { answer: ok("answer"), play: ok("play"), setChannelVar: ok("var"), continueInDialplan: ok("continue"), hangup: ok("hangup"), get: () => Promise.resolve({ id: "x" }) },
    playbacks: { stop: ok("stopPlayback") },
    applications: { get: () => Promise.resolve({ name: "crm-bridge", channel_ids: [] }) },
  }) as unknown as AriClient;
  return { client, sent };
}

const ev = (type: string, extra: object) => ({ type, ...extra });

describe("AriCalls", () => {
  it("routes DTMF and playback events by id, and a hang-up aborts only that call", async () => {
    const { client } = stubClient();
    const calls = new AriCalls(() => client, () => 0);
    const a = calls.open("a");
    const b = calls.open("b");
    const digits: string[] = [];
    a.onDtmf((d) => digits.push(`a${d}`));
    b.onDtmf((d) => digits.push(`b${d}`));
    calls.dispatch(ev("ChannelDtmfReceived", { digit: "1", channel: { id: "b" } }));
    calls.dispatch(ev("ChannelDtmfReceived", { digit: "2", channel: { id: "a" } }));
    calls.dispatch(ev("ChannelDtmfReceived", { digit: "3", channel: { id: "zzz" } }));
    expect(digits).toEqual(["b1", "a2"]);
    const pb = a.play("sound:x");
    const [id] = [...calls.playbacks.keys()];
    calls.dispatch(ev("PlaybackFinished", { playback: { id } }));
    await pb.ended;
    expect(calls.playbacks.size).toBe(0);
    calls.dispatch(ev("ChannelHangupRequest", { channel: { id: "a" } }));
    expect(a.signal.aborted).toBe(true);
    expect(b.signal.aborted).toBe(false);
  });

  it("once the channel has left our app (StasisEnd, even mid-routing), no command is sent for it: a peer may be serving it", async () => {
    const { client, sent } = stubClient();
    const calls = new AriCalls(() => client, () => 0);
    const a = calls.open("a");
    // The routing variables are on their way when a peer's move takes the channel (StasisEnd to us).
    a.markRouted();
    await a.setVariable("CRM_BRIDGE_OUTCOME", "timeout");
    calls.dispatch(ev("StasisEnd", { channel: { id: "a" } }));
    await expect(a.continueInDialplan({ context: "c", extension: "e", priority: 1 })).rejects.toThrow(/call stopped: hangup/);
    await expect(a.setVariable("X", "1")).rejects.toThrow(/call stopped/);
    await a.play("sound:x").ended;
    expect(sent).toEqual(['var {"channelId":"a","variable":"CRM_BRIDGE_OUTCOME","value":"timeout"}']);
  });

  it("every command waits for the fence, and one that finds the channel gone meanwhile is not sent", async () => {
    const { client, sent } = stubClient();
    const calls = new AriCalls(() => client, () => 0);
    let open!: () => void;
    calls.fence = () => new Promise<void>((r) => (open = r));
    const a = calls.open("a");
    const routing = a.continueInDialplan({ context: "c", extension: "e", priority: 1 });
    await Promise.resolve();
    expect(sent).toEqual([]);
    // What the fence's round trips let through first: the StasisEnd queued while we were frozen.
    calls.dispatch(ev("StasisEnd", { channel: { id: "a" } }));
    open();
    await expect(routing).rejects.toThrow(/call stopped/);
    expect(sent).toEqual([]);
  });

  it("a call that lived through a lapsed lease asks where it is before its routing command: gone from our app, no continue", async () => {
    const { client, sent } = stubClient();
    let t = 0;
    const calls = new AriCalls(() => client, () => t);
    const asked: string[] = [];
    calls.inOurApp = (id) => (asked.push(id), Promise.resolve(false));
    const old = calls.open("old");
    t = 10;
    calls.renewedAt = 10;
    t = 20;
    const fresh = calls.open("fresh");
    // A peer's move, queued behind a prompt, ran before these variables: whichever answer comes first, the listing tells.
    await old.setVariable("CRM_BRIDGE_OUTCOME", "failure");
    await expect(old.continueInDialplan({ context: "c", extension: "e", priority: 1 })).rejects.toThrow(/call stopped/);
    await expect(old.hangup()).rejects.toThrow(/call stopped/);
    // A call that began after the renewal routes without the extra round trip.
    await fresh.continueInDialplan({ context: "c", extension: "e", priority: 1 });
    expect(asked).toEqual(["old"]);
    expect(sent.map((x) => x.split(" ")[0])).toEqual(["var", "continue"]);
    expect(sent[1]).toContain('"channelId":"fresh"');
  });

  it("after routing, end-of-Stasis is not a hang-up and keys are ignored", () => {
    const { client } = stubClient();
    const calls = new AriCalls(() => client, () => 0);
    const a = calls.open("a");
    let keys = 0;
    a.onDtmf(() => keys++);
    a.markRouted();
    calls.dispatch(ev("ChannelDtmfReceived", { digit: "1", channel: { id: "a" } }));
    calls.dispatch(ev("StasisEnd", { channel: { id: "a" } }));
    expect(keys).toBe(0);
    expect(a.signal.aborted).toBe(false);
    a.end({ code: "shutdown" });
    expect(a.signal.aborted).toBe(true);
  });

  it("closing a call settles its pending playbacks and forgets everything about it", async () => {
    const { client, sent } = stubClient();
    const calls = new AriCalls(() => client, () => 0);
    const a = calls.open("a");
    const p1 = a.play("sound:one");
    const p2 = a.play("sound:two");
    a.onDtmf(() => undefined);
    calls.close("a");
    await Promise.all([p1.ended, p2.ended]);
    expect(calls.calls.size).toBe(0);
    expect(calls.playbacks.size).toBe(0);
    p1.stop(); // after it ended: nothing sent
    expect(sent.filter((s) => s.startsWith("stopPlayback"))).toEqual([]);
  });

  it("a play that Asterisk refuses counts as a prompt that ended; commands without a client fail", async () => {
    const { client } = stubClient();
    (client.channels as { play: unknown }).play = () => Promise.reject(new Error('{"message":"Channel not found"}'));
    const calls = new AriCalls(() => client, () => 0);
    await calls.open("a").play("sound:x").ended;
    const none = new AriCalls(() => null, () => 0);
    await expect(none.open("b").answer()).rejects.toThrow("ari_disconnected");
  });

  it("resync after a reconnect: a prompt Asterisk no longer has is over, also when the reconnect beat its 201", async () => {
    const { client } = stubClient();
    const playing = new Set<string>();
    const asked: string[] = [];
    const acks: Array<() => void> = [];
    const c = client as unknown as { channels: { play: (p: { playbackId: string }) => Promise<void> }; playbacks: { get: (p: { playbackId: string }) => Promise<void> } };
    c.channels.play = () => new Promise<void>((r) => acks.push(r));
    // ari-client rejects with the body of Asterisk's 404.
    c.playbacks.get = ({ playbackId }) => (asked.push(playbackId), playing.has(playbackId) ? Promise.resolve() : Promise.reject(new Error('{"message":"Playback not found"}')));
    const calls = new AriCalls(() => client, () => 0);
    const ended: string[] = [];
    const play = (call: string) => void calls.open(call).play("sound:x").ended.then(() => ended.push(call));
    play("a");
    play("b");
    const [a, b] = [...calls.playbacks.keys()];
    // The play requests leave once the fence has let them through (a microtask).
    await new Promise((r) => setTimeout(r, 0));
    acks[0]!();
    playing.add(a!);
    // b's 201 is still on its way when the WebSocket is back: asking now would read "not created yet" as "over".
    const resync = calls.resyncPlaybacks(client);
    await new Promise((r) => setTimeout(r, 10));
    expect(asked).toEqual([a]);
    // b played and finished while no WebSocket was there: its PlaybackFinished never comes.
    acks[1]!();
    await expect(resync).resolves.toBe(1);
    expect(asked).toEqual([a, b]);
    expect(ended).toEqual(["b"]);
    expect([...calls.playbacks.keys()]).toEqual([a]);
  });
});

describe("bounded: an ARI REST call lost with its connection", () => {
  it("fails after ARI_REST_TIMEOUT_MS naming the call, not before", async () => {
    vi.useFakeTimers();
    try {
      const waiting = bounded(new Promise<never>(() => undefined), "answer");
      const seen = waiting.then(() => "resolved", (e: unknown) => (e instanceof Error ? e.message : "?"));
      await vi.advanceTimersByTimeAsync(ARI_REST_TIMEOUT_MS - 1);
      let early: string | null = null;
      void seen.then((m) => (early = m));
      await Promise.resolve();
      expect(early).toBeNull();
      await vi.advanceTimersByTimeAsync(1);
      expect(await seen).toBe("ari_timeout: answer");
    } finally {
      vi.useRealTimers();
    }
  });

  it("passes the answer through, and a non-Error refusal becomes an Error", async () => {
    await expect(bounded(Promise.resolve(7), "x")).resolves.toBe(7);
    await expect(bounded(Promise.reject("Channel not found"), "x")).rejects.toThrow(new Error("Channel not found"));
  });
});
