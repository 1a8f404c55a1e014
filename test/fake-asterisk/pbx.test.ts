// Behaviour of the fake beyond what the four traces show, taken from the
// Asterisk 22 source (res_stasis control queue, res_stasis_playback, ARI
// resource_channels.c). Each test names the Asterisk behaviour it pins.

import { afterEach, describe, expect, it } from "vitest";
import { connectRawApp } from "./raw-client.js";
import type { RawAriApp } from "./raw-client.js";
import { startFakeAsterisk } from "./server.js";
import type { FakeAsterisk, FakeAsteriskOptions } from "./server.js";
import { WebSocket } from "ws";

let fake: FakeAsterisk | undefined;
let app: RawAriApp | undefined;

afterEach(async () => {
  app?.close();
  app = undefined;
  await fake?.close();
  fake = undefined;
});

async function answeredCall(options: FakeAsteriskOptions = {}): Promise<{ f: FakeAsterisk; a: RawAriApp; id: string }> {
  const f = await startFakeAsterisk({ playbackMs: 80, ...options });
  fake = f;
  const a = await connectRawApp(f);
  app = a;
  const id = f.placeCall({ args: ["acme", "plain"], callerNumber: "5550100" });
  await a.nextEvent("StasisStart");
  expect((await a.rest("POST", `/channels/${id}/answer`)).status).toBe(204);
  return { f, a, id };
}

const pbTrail = (a: RawAriApp): string[] =>
  a.events.flatMap((e) => ("playback" in e ? [`${e.type}:${e.playback.id}:${e.playback.state}`] : []));

describe("fake Asterisk state machine", () => {
  it("a prompt finishes by itself after playbackMs with PlaybackFinished done", async () => {
    const { a, id } = await answeredCall({ playbackMs: 30 });
    await a.rest("POST", `/channels/${id}/play/p1`, { media: "sound:hello-world" });
    const done = await a.nextEvent("PlaybackFinished");
    expect(done.playback).toMatchObject({ id: "p1", state: "done" });
    expect((await a.rest("GET", "/playbacks/p1")).status).toBe(404);
  });

  it("a second play while one is playing is 201 `queued` and starts when the first ends (one channel thread)", async () => {
    const { a, id } = await answeredCall();
    await a.rest("POST", `/channels/${id}/play/p1`, { media: "sound:one" });
    const second = await a.rest("POST", `/channels/${id}/play`, { media: "sound:two", playbackId: "p2" });
    expect(second).toMatchObject({ status: 201, body: { id: "p2", state: "queued" } });
    expect(second.headers.get("location")).toBe("/playbacks/p2");
    await a.nextEvent("PlaybackFinished", (e) => e.playback.id === "p2");
    expect(pbTrail(a)).toEqual(["PlaybackStarted:p1:playing", "PlaybackFinished:p1:done", "PlaybackStarted:p2:playing", "PlaybackFinished:p2:done"]);
  });

  it("setChannelVar during a prompt is answered only when the prompt ends (synchronous command)", async () => {
    const { f, a, id } = await answeredCall({ playbackMs: 120 });
    await a.rest("POST", `/channels/${id}/play/p1`, { media: "sound:hello-world" });
    const t0 = Date.now();
    expect((await a.rest("POST", `/channels/${id}/variable`, { variable: "X", value: "1" })).status).toBe(204);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(80);
    const types = a.events.map((e) => e.type);
    expect(types.indexOf("PlaybackFinished")).toBeLessThan(types.indexOf("ChannelVarset"));
    expect(f.channelVars(id)).toEqual({ X: "1" });
  });

  it("continue during a prompt is 204 at once, but StasisEnd only comes after the prompt (asynchronous command)", async () => {
    const { f, a, id } = await answeredCall({ playbackMs: 100 });
    await a.rest("POST", `/channels/${id}/play/p1`, { media: "sound:hello-world" });
    expect((await a.rest("POST", `/channels/${id}/continue`, { context: "acc-dest", extension: "1-3", priority: 1 })).status).toBe(204);
    expect(f.channelState(id).state).toBe("inStasis");
    await a.nextEvent("StasisEnd");
    const types = a.events.map((e) => e.type);
    expect(types.slice(-2)).toEqual(["PlaybackFinished", "StasisEnd"]);
  });

  it("DELETE /playbacks on a queued playback cancels it: 204, then PlaybackFinished done with no PlaybackStarted", async () => {
    const { a, id } = await answeredCall();
    await a.rest("POST", `/channels/${id}/play/p1`, { media: "sound:one" });
    await a.rest("POST", `/channels/${id}/play/p2`, { media: "sound:two" });
    expect((await a.rest("DELETE", "/playbacks/p2")).status).toBe(204);
    await a.nextEvent("PlaybackFinished", (e) => e.playback.id === "p2");
    expect(pbTrail(a)).toEqual(["PlaybackStarted:p1:playing", "PlaybackFinished:p1:done", "PlaybackFinished:p2:done"]);
  });

  it("digits: cannot be stopped (500 Could not stop playback), sound: can", async () => {
    const { a, id } = await answeredCall({ playbackMs: 500 });
    await a.rest("POST", `/channels/${id}/play/d1`, { media: "digits:4321" });
    expect(await a.rest("DELETE", "/playbacks/d1")).toMatchObject({ status: 500, body: { message: "Could not stop playback" } });
    expect(await a.rest("DELETE", "/playbacks/nope")).toMatchObject({ status: 404, body: { message: "Playback not found" } });
  });

  it("a media list plays in order: Started, Continuing, Started, Finished; next_media_uri while not last", async () => {
    const { a, id } = await answeredCall({ playbackMs: 20 });
    const r = await a.rest("POST", `/channels/${id}/play/m1`, { media: "sound:you-entered,digits:42" });
    expect(r.body).toMatchObject({ media_uri: "sound:you-entered", next_media_uri: "digits:42", state: "playing" });
    await a.nextEvent("PlaybackFinished");
    expect(a.events.filter((e) => "playback" in e).map((e) => ("playback" in e ? `${e.type}:${e.playback.media_uri}` : ""))).toEqual([
      "PlaybackStarted:sound:you-entered", "PlaybackContinuing:sound:you-entered", "PlaybackStarted:digits:42", "PlaybackFinished:digits:42",
    ]);
  });

  it("the app hanging up: ChannelHangupRequest (cause 32 = AST_SOFTHANGUP_EXPLICIT, soft) → 204 → PlaybackFinished failed → StasisEnd", async () => {
    const { f, a, id } = await answeredCall({ playbackMs: 1000 });
    await a.rest("POST", `/channels/${id}/play/p1`, { media: "sound:hello-world" });
    expect((await a.rest("DELETE", `/channels/${id}`)).status).toBe(204);
    await a.nextEvent("StasisEnd");
    const hangup = await a.nextEvent("ChannelHangupRequest");
    expect(hangup).toMatchObject({ cause: 32, soft: true });
    expect(a.events.map((e) => e.type).slice(-3)).toEqual(["ChannelHangupRequest", "PlaybackFinished", "StasisEnd"]);
    const cmd = f.commands.find((c) => c.method === "DELETE");
    const hangupSeq = f.events.find((e) => e.event.type === "ChannelHangupRequest")?.seq ?? 0;
    expect(cmd?.lastEventSeqBeforeReply).toBe(hangupSeq);
    expect(f.channelState(id)).toMatchObject({ state: "hungup", by: "app", cause: 16 });
    expect(await a.rest("GET", `/channels/${id}`)).toMatchObject({ status: 404 });
  });

  it("after continue the channel is in the dialplan: control calls 409, GET 200 at the new place, DELETE 204 silently", async () => {
    const { f, a, id } = await answeredCall();
    await a.rest("POST", `/channels/${id}/continue`, { context: "acc-dest", extension: "1-3", priority: 1 });
    await a.nextEvent("StasisEnd");
    expect(await a.rest("POST", `/channels/${id}/answer`)).toMatchObject({ status: 409, body: { message: "Channel not in Stasis application" } });
    expect(await a.rest("POST", `/channels/${id}/play`, { media: "sound:x" })).toMatchObject({ status: 409 });
    expect(await a.rest("GET", `/channels/${id}`)).toMatchObject({ status: 200, body: { dialplan: { context: "acc-dest", exten: "1-3", priority: 1 } } });
    const before = a.events.length;
    expect((await a.rest("DELETE", `/channels/${id}`)).status).toBe(204);
    await f.waitForChannelState(id, "hungup");
    expect(f.channelState(id)).toMatchObject({ by: "app", continuedTo: { context: "acc-dest", extension: "1-3", priority: 1 } });
    expect(a.events.length).toBe(before);
  });

  it("continue to a missing context: the call falls off the dialplan (hung up, continuedTo kept)", async () => {
    const { f, a, id } = await answeredCall();
    await a.rest("POST", `/channels/${id}/continue`, { context: "no-such-context", extension: "s", priority: 1 });
    await a.nextEvent("StasisEnd");
    expect(f.channelState(id)).toMatchObject({ state: "hungup", by: "dialplan", continuedTo: { context: "no-such-context" } });
  });

  it("continue defaults: context only → extension s priority 1; nothing → next priority", async () => {
    const { f, a, id } = await answeredCall();
    await a.rest("POST", `/channels/${id}/continue`, { context: "acc-dest" });
    await f.waitForChannelState(id, "continued");
    expect(f.channelState(id)).toEqual({ state: "continued", context: "acc-dest", extension: "s", priority: 1 });
    const id2 = f.placeCall({ args: ["acme", "plain"] });
    await a.rest("POST", `/channels/${id2}/continue`);
    expect(await f.waitForChannelState(id2, "continued")).toEqual({ state: "continued", context: "acc-in", extension: "acme+plain", priority: 4 });
  });

  it("parameters may come in a JSON body as well as in the query string", async () => {
    const { f, a, id } = await answeredCall();
    expect((await a.rest("POST", `/channels/${id}/variable`, {}, { variable: "CRM_BRIDGE_OUTCOME", value: "success" })).status).toBe(204);
    expect(f.channelVars(id)).toEqual({ CRM_BRIDGE_OUTCOME: "success" });
    expect(await a.rest("POST", `/channels/${id}/variable`, {})).toMatchObject({ status: 400, body: { message: "Variable name is required" } });
    expect(await a.rest("GET", `/channels/${id}/variable`, { variable: "NOPE" })).toMatchObject({ status: 404, body: { message: "Provided variable was not found" } });
    expect(await a.rest("GET", `/channels/${id}/variable`, { variable: "CALLERID(num)" })).toMatchObject({ status: 200, body: { value: "5550100" } });
  });

  it("hangup reasons are validated like ARI", async () => {
    const { a, id } = await answeredCall();
    expect(await a.rest("DELETE", `/channels/${id}`, { reason: "normal", reason_code: "16" })).toMatchObject({ status: 400 });
    expect(await a.rest("DELETE", `/channels/${id}`, { reason: "bogus" })).toMatchObject({ status: 400, body: { message: "Invalid reason for hangup reason provided" } });
    expect((await a.rest("DELETE", `/channels/${id}`, { reason: "busy" })).status).toBe(204);
  });

  it("unknown routes are 404 Resource not found, a known path with the wrong method 405", async () => {
    const { a } = await answeredCall();
    expect(await a.rest("GET", "/bridges")).toMatchObject({ status: 404, body: { message: "Resource not found" } });
    expect(await a.rest("PUT", "/channels")).toMatchObject({ status: 405, body: { message: "Invalid method" } });
  });

  it("DTMF is one ChannelDtmfReceived per digit, gapMs apart; nothing reaches the app once the call left Stasis", async () => {
    const { f, a, id } = await answeredCall();
    const t0 = Date.now();
    await f.sendDtmf(id, "12#", { gapMs: 40, durationMs: 80 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(75);
    await a.nextEvent("ChannelDtmfReceived", (e) => e.digit === "#");
    const digits = a.events.flatMap((e) => (e.type === "ChannelDtmfReceived" ? [[e.digit, e.duration_ms]] : []));
    expect(digits).toEqual([["1", 80], ["2", 80], ["#", 80]]);
    await expect(f.sendDtmf(id, "x")).rejects.toThrow(/not DTMF/);
    await a.rest("POST", `/channels/${id}/continue`, { context: "acc-dest" });
    await a.nextEvent("StasisEnd");
    await f.sendDtmf(id, "9");
    expect(f.events.filter((e) => e.event.type === "ChannelDtmfReceived")).toHaveLength(3);
  });

  it("ChannelDestroyed after StasisEnd only when asked for (Asterisk 22 unsubscribes the app first)", async () => {
    const { f, a, id } = await answeredCall({ channelDestroyedEvents: true });
    f.hangup(id);
    await a.nextEvent("ChannelDestroyed");
    expect(a.events.map((e) => e.type).slice(-3)).toEqual(["ChannelHangupRequest", "StasisEnd", "ChannelDestroyed"]);
  });

  it("a second WebSocket for the same app replaces the first (ApplicationReplaced) and gets the events", async () => {
    const { f, a } = await answeredCall();
    const b = await connectRawApp(f);
    try {
      await a.nextEvent("ApplicationReplaced");
      f.placeCall({ args: ["acme", "vip"] });
      expect((await b.nextEvent("StasisStart")).args).toEqual(["acme", "vip"]);
      expect(a.events.filter((e) => e.type === "StasisStart")).toHaveLength(1);
    } finally {
      b.close();
    }
  });

  it("a playlist of sounds (the agent's read-back) can be stopped mid-list: 204, PlaybackFinished done", async () => {
    const { a, id } = await answeredCall({ playbackMs: 500 });
    await a.rest("POST", `/channels/${id}/play/r1`, { media: "sound:digits/4,sound:digits/3" });
    await a.nextEvent("PlaybackStarted");
    expect((await a.rest("DELETE", "/playbacks/r1")).status).toBe(204);
    expect((await a.nextEvent("PlaybackFinished")).playback).toMatchObject({ id: "r1", state: "done", media_uri: "sound:digits/4" });
  });

  it("when an app's WebSocket goes away its channels stay in it, Stasis() into it fails, and another app's connection controls them by id", async () => {
    const { f, a, id } = await answeredCall();
    const other = await connectRawApp(f, "crm-bridge-b");
    try {
      a.close();
      await f.waitFor(() => !f.isConnected(), 2000, "app inactive");
      expect(() => f.placeCall({ args: ["acme", "plain"] })).toThrow(/not active/);
      expect((await other.rest("GET", `/applications/${f.app}`)).body).toMatchObject({ channel_ids: [id] });
      expect((await other.rest("POST", `/channels/${id}/continue`, { context: "crm-bridge-route", extension: "3-20", priority: "1" })).status).toBe(204);
      await f.waitForChannelState(id, "continued", 2000);
    } finally {
      other.close();
    }
  });

  describe("POST /channels/{id}/move (Channels REST API, since 13.26/16.3; from the docs, not a trace)", () => {
    it("204; StasisEnd to the old app, then StasisStart with appArgs to the new one; the new app controls it", async () => {
      const { f, a, id } = await answeredCall();
      const b = await connectRawApp(f, "crm-bridge-b");
      try {
        expect((await a.rest("POST", `/channels/${id}/move`, { app: "crm-bridge-b", appArgs: "acme,sales" })).status).toBe(204);
        const start = await b.nextEvent("StasisStart");
        expect(start).toMatchObject({ args: ["acme", "sales"], application: "crm-bridge-b", channel: { id, dialplan: { app_data: "crm-bridge-b,acme,sales" } } });
        const end = await a.nextEvent("StasisEnd");
        expect(end.channel.id).toBe(id);
        const order = f.events.filter((e) => e.event.type === "StasisEnd" || (e.event.type === "StasisStart" && e.app === "crm-bridge-b")).map((e) => `${e.event.type}@${e.app}`);
        expect(order).toEqual(["StasisEnd@crm-bridge", "StasisStart@crm-bridge-b"]);
        expect(f.channelsInApp()).toEqual([]);
        expect(f.channelsInApp("crm-bridge-b")).toEqual([id]);
        expect((await b.rest("GET", "/applications/crm-bridge-b")).body).toMatchObject({ channel_ids: [id] });
        await f.sendDtmf(id, "7");
        expect((await b.nextEvent("ChannelDtmfReceived")).digit).toBe("7");
        expect(a.events.some((e) => e.type === "ChannelDtmfReceived")).toBe(false);
      } finally {
        b.close();
      }
    });

    it("404 for an unknown channel, 409 for one no longer in Stasis", async () => {
      const { a, id } = await answeredCall();
      expect(await a.rest("POST", "/channels/1.999/move", { app: "crm-bridge-b" })).toMatchObject({ status: 404, body: { message: "Channel not found" } });
      expect((await a.rest("POST", `/channels/${id}/continue`, { context: "acc-dest", extension: "3-1", priority: "1" })).status).toBe(204);
      await a.nextEvent("StasisEnd");
      expect(await a.rest("POST", `/channels/${id}/move`, { app: "crm-bridge-b" })).toMatchObject({ status: 409, body: { message: "Channel not in Stasis application" } });
    });

    it("asynchronous like continue: 204 at once during a prompt, the move happens when the prompt ends", async () => {
      const { f, a, id } = await answeredCall({ playbackMs: 150 });
      const b = await connectRawApp(f, "crm-bridge-b");
      try {
        await a.rest("POST", `/channels/${id}/play/p1`, { media: "sound:hello-world" });
        expect((await a.rest("POST", `/channels/${id}/move`, { app: "crm-bridge-b", appArgs: "acme,sales" })).status).toBe(204);
        expect(f.channelsInApp()).toEqual([id]);
        await b.nextEvent("StasisStart");
        expect(a.events.map((e) => e.type).slice(-2)).toEqual(["PlaybackFinished", "StasisEnd"]);
      } finally {
        b.close();
      }
    });

    it("to an app nobody is subscribed to: 204, then ApplicationMoveFailed to the old app and the channel stays", async () => {
      const { f, a, id } = await answeredCall();
      expect((await a.rest("POST", `/channels/${id}/move`, { app: "nobody", appArgs: "acme,sales" })).status).toBe(204);
      const failed = await a.nextEvent("ApplicationMoveFailed");
      expect(failed).toMatchObject({ destination: "nobody", args: ["acme", "sales"], application: "crm-bridge", channel: { id } });
      expect(Object.keys(failed)).toEqual(["type", "timestamp", "channel", "destination", "args", "asterisk_id", "application"]);
      expect(a.events.some((e) => e.type === "StasisEnd")).toBe(false);
      expect(f.channelsInApp()).toEqual([id]);
      expect((await a.rest("POST", `/channels/${id}/answer`)).status).toBe(204);
    });

    it("out of the app of a dead agent (no WebSocket): another app moves it by id into itself", async () => {
      const { f, a, id } = await answeredCall();
      const b = await connectRawApp(f, "crm-bridge-b");
      try {
        a.close();
        await f.waitFor(() => !f.isConnected(), 2000, "app inactive");
        expect((await b.rest("POST", `/channels/${id}/move`, { app: "crm-bridge-b", appArgs: "acme,plain" })).status).toBe(204);
        expect((await b.nextEvent("StasisStart")).args).toEqual(["acme", "plain"]);
        expect(f.events.find((e) => e.event.type === "StasisEnd")).toMatchObject({ app: "crm-bridge", delivered: false });
        expect((await b.rest("GET", `/applications/${f.app}`)).status).toBe(404);
      } finally {
        b.close();
      }
    });

    it("override() answers a request instead of carrying it out, until cleared (test fault injection)", async () => {
      const { f, a, id } = await answeredCall();
      f.override((r) => (r.path.endsWith("/move") ? { status: 500, body: { message: "Failed to switch Stasis applications" } } : undefined));
      expect(await a.rest("POST", `/channels/${id}/move`, { app: "crm-bridge" })).toMatchObject({ status: 500 });
      expect((await a.rest("POST", `/channels/${id}/answer`)).status).toBe(204);
      f.override(null);
      expect((await a.rest("POST", `/channels/${id}/move`, { app: "crm-bridge" })).status).toBe(204);
    });
  });

  it("global variables: GET of an unset one is 200 with an empty value; POST sets it", async () => {
    const { a } = await answeredCall();
    expect(await a.rest("GET", "/asterisk/variable", { variable: "CRM_BRIDGE_ALIVE_X" })).toMatchObject({ status: 200, body: { value: "" } });
    expect((await a.rest("POST", "/asterisk/variable", { variable: "CRM_BRIDGE_ALIVE_X", value: "7" })).status).toBe(204);
    expect(await a.rest("GET", "/asterisk/variable", { variable: "CRM_BRIDGE_ALIVE_X" })).toMatchObject({ status: 200, body: { value: "7" } });
    expect((await a.rest("GET", "/asterisk/variable")).status).toBe(400);
  });

  it("the events WebSocket needs app= and valid credentials (Basic header or api_key)", async () => {
    const f = await startFakeAsterisk();
    fake = f;
    const status = (url: string, headers: Record<string, string> = {}): Promise<number> =>
      new Promise((resolve) => {
        const ws = new WebSocket(url, { headers });
        ws.on("unexpected-response", (_q, res) => resolve(res.statusCode ?? 0));
        ws.on("open", () => {
          ws.close();
          resolve(101);
        });
        ws.on("error", () => undefined);
      });
    const base = `${f.url.replace("http", "ws")}/ari/events`;
    expect(await status(`${base}?api_key=crm-bridge:crm-bridge`)).toBe(400);
    expect(await status(`${base}?app=crm-bridge&api_key=crm-bridge:nope`)).toBe(401);
    expect(await status(`${base}?app=crm-bridge`)).toBe(401);
    expect(await status(`${base}?app=crm-bridge`, { Authorization: `Basic ${Buffer.from("crm-bridge:crm-bridge").toString("base64")}` })).toBe(101);
    expect(await status(`${base}?app=crm-bridge&api_key=crm-bridge:crm-bridge`)).toBe(101);
  });

  it("records commands with query, body and status, and never the password", async () => {
    const f = await startFakeAsterisk();
    fake = f;
    await fetch(`${f.url}/ari/channels?api_key=crm-bridge:crm-bridge`);
    const c = await f.waitForCommand((x) => x.path === "/channels");
    expect(c).toMatchObject({ method: "GET", status: 200, query: { api_key: "crm-bridge:***" } });
    expect(JSON.stringify(f.commands)).not.toContain("crm-bridge:crm-bridge");
  });

  it("waitFor rejects with the recent events when the condition never comes", async () => {
    const { f } = await answeredCall();
    await expect(f.waitForEvent("StasisEnd", undefined, 50)).rejects.toThrow(/timed out after 50 ms waiting for event StasisEnd \(last events: StasisStart, ChannelStateChange\)/);
  });
});
