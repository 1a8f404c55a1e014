// The unmodified ari-client 2.2 against the fake: if this passes, the agent's
// ARI layer can be tested against the fake instead of a real Asterisk.

import { createRequire } from "node:module";
import { spawn } from "node:child_process";
import type { EventEmitter } from "node:events";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { startFakeAsterisk } from "./index.js";
import type { FakeAsterisk } from "./index.js";

interface Playback extends EventEmitter {
  id: string;
  state: string;
  stop(): Promise<void>;
}
interface Channel {
  id: string;
  state: string;
  answer(): Promise<void>;
  play(p: { media: string }, playback?: Playback): Promise<Playback>;
  setChannelVar(p: { variable: string; value: string }): Promise<void>;
  getChannelVar(p: { variable: string }): Promise<{ value: string }>;
  continueInDialplan(p: { context: string; extension: string; priority: number }): Promise<void>;
}
interface AriEventJson {
  type: string;
  args?: string[];
  digit?: string;
  duration_ms?: number;
  channel?: { id: string; state: string };
  playback?: { id: string; state: string };
}
interface Client extends EventEmitter {
  start(app: string): Promise<void>;
  stop(): void;
  Playback(): Playback;
  channels: {
    get(p: { channelId: string }): Promise<Channel>;
    list(): Promise<Channel[]>;
    hangup(p: { channelId: string }): Promise<void>;
    move(p: { channelId: string; app: string; appArgs?: string }): Promise<void>;
  };
  playbacks: { get(p: { playbackId: string }): Promise<Playback> };
  applications: { get(p: { applicationName: string }): Promise<{ name: string; channel_ids: string[] }> };
  asterisk: { ping(): Promise<{ ping: string }> };
}
// ari-client is CommonJS without types; this is the slice the tests touch.
const ari = createRequire(import.meta.url)("ari-client") as { connect(url: string, user: string, pass: string): Promise<Client> };

let fake: FakeAsterisk;
let client: Client | undefined;
const seen: AriEventJson[] = [];

beforeEach(async () => {
  fake = await startFakeAsterisk({ playbackMs: 150 });
  seen.length = 0;
});

afterEach(async () => {
  client?.stop();
  client = undefined;
  await fake.close();
});

async function connect(): Promise<Client> {
  const c = await ari.connect(fake.url, fake.username, fake.password);
  c.on("*", (e: AriEventJson) => void seen.push(e));
  await c.start(fake.app);
  await fake.waitForApp();
  client = c;
  return c;
}

function nextEvent(c: Client, type: string, filter: (e: AriEventJson) => boolean = () => true): Promise<AriEventJson> {
  return new Promise((resolve) => {
    const on = (e: AriEventJson): void => {
      if (!filter(e)) return;
      c.off(type, on);
      resolve(e);
    };
    c.on(type, on);
  });
}

describe("ari-client 2.2 against the fake Asterisk", () => {
  it("loads the Swagger declarations and exposes the operations the agent uses", async () => {
    const c = await connect();
    const ops = c as unknown as Record<string, Record<string, unknown>>;
    for (const op of ["list", "get", "answer", "play", "playWithId", "setChannelVar", "getChannelVar", "continueInDialplan", "hangup", "move"]) {
      expect(typeof ops.channels?.[op], `channels.${op}`).toBe("function");
    }
    expect(typeof ops.playbacks?.stop).toBe("function");
    expect(typeof ops.applications?.get).toBe("function");
    expect((await c.asterisk.ping()).ping).toBe("pong");
  });

  it("runs a whole call: StasisStart args, answer, play, DTMF barge-in, stop, set variable, continue", async () => {
    const c = await connect();
    const started = new Promise<{ event: AriEventJson; channel: Channel }>((resolve) => c.once("StasisStart", (event: AriEventJson, channel: Channel) => resolve({ event, channel })));
    const id = fake.placeCall({ args: ["acme", "plain"], callerNumber: "5551234" });
    const { event, channel } = await started;
    expect(event.args).toEqual(["acme", "plain"]);
    expect(channel.id).toBe(id);
    expect(channel.state).toBe("Ring");

    const up = nextEvent(c, "ChannelStateChange");
    await channel.answer();
    expect((await up).channel?.state).toBe("Up");

    const playback = c.Playback();
    const finished = new Promise<AriEventJson>((resolve) => playback.once("PlaybackFinished", (e: AriEventJson) => resolve(e)));
    const created = await channel.play({ media: "sound:hello-world" }, playback);
    expect(created.id).toBe(playback.id);
    expect(created.state).toBe("playing");

    const firstDigit = nextEvent(c, "ChannelDtmfReceived");
    void fake.sendDtmf(id, "4");
    const d = await firstDigit;
    expect(d.digit).toBe("4");
    expect(d.duration_ms).toBe(100);
    await playback.stop();
    expect((await finished).playback?.state).toBe("done");

    const hash = nextEvent(c, "ChannelDtmfReceived", (e) => e.digit === "#");
    await fake.sendDtmf(id, "321#", { gapMs: 5 });
    await hash;

    await channel.setChannelVar({ variable: "__OMLCODCLI", value: "4321" });
    await channel.setChannelVar({ variable: "CUSTOMER_ID", value: "4321" });
    expect((await channel.getChannelVar({ variable: "CUSTOMER_ID" })).value).toBe("4321");
    const end = nextEvent(c, "StasisEnd");
    await channel.continueInDialplan({ context: "acc-dest", extension: "1-3", priority: 1 });
    await end;

    expect(fake.channelState(id)).toEqual({ state: "continued", context: "acc-dest", extension: "1-3", priority: 1 });
    expect(fake.channelVars(id)).toEqual({ __OMLCODCLI: "4321", CUSTOMER_ID: "4321" });
    expect(seen.map((e) => e.type).filter((t) => t !== "ChannelVarset")).toEqual([
      "StasisStart", "ChannelStateChange", "PlaybackStarted", "ChannelDtmfReceived", "PlaybackFinished",
      "ChannelDtmfReceived", "ChannelDtmfReceived", "ChannelDtmfReceived", "ChannelDtmfReceived", "StasisEnd",
    ]);
    expect(fake.commands.map((cmd) => `${cmd.method} ${cmd.path.replace(id, "{id}")} ${cmd.status}`)).toEqual([
      "POST /channels/{id}/answer 204",
      `POST /channels/{id}/play 201`,
      `DELETE /playbacks/${playback.id} 204`,
      "POST /channels/{id}/variable 204",
      "POST /channels/{id}/variable 204",
      "GET /channels/{id}/variable 200",
      "POST /channels/{id}/continue 204",
    ]);
  });

  it("turns ARI errors into rejections carrying Asterisk's JSON message", async () => {
    const c = await connect();
    await expect(c.channels.get({ channelId: "no-such-channel" })).rejects.toThrow('{"message":"Channel not found"}');
    await expect(c.playbacks.get({ playbackId: "nope" })).rejects.toThrow('{"message":"Playback not found"}');
  });

  it("rejects a wrong password on REST, on the WebSocket, and in ari-client.connect()", async () => {
    const bad = Buffer.from(`${fake.username}:wrong`).toString("base64");
    const rest = await fetch(`${fake.url}/ari/channels`, { headers: { Authorization: `Basic ${bad}` } });
    expect(rest.status).toBe(401);
    expect(await rest.json()).toEqual({ message: "Authentication required" });
    const byKey = await fetch(`${fake.url}/ari/channels?api_key=${fake.username}:wrong`);
    expect(byKey.status).toBe(401);

    const wsStatus = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${fake.url.replace("http", "ws")}/ari/events?app=${fake.app}&api_key=${fake.username}:wrong`);
      ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.on("open", () => resolve(101));
      ws.on("error", () => undefined);
    });
    expect(wsStatus).toBe(401);
    expect(fake.isConnected()).toBe(false);

    // ari-client (swagger-client 2.0.26) rejects AND throws the failure as an
    // uncaught exception, which would fail this test file: run it in a child process.
    const script = `
      const ari = require("ari-client");
      process.on("uncaughtException", (e) => console.log("uncaught " + e));
      ari.connect(process.env.URL, "crm-bridge", "wrong").then(() => console.log("connected"), (e) => console.log("rejected " + e));
    `;
    const out = await new Promise<string>((resolve) => {
      const child = spawn(process.execPath, ["-e", script], { env: { ...process.env, URL: fake.url }, cwd: process.cwd() });
      let text = "";
      child.stdout.on("data", (b: Buffer) => (text += b.toString()));
      child.on("exit", () => resolve(text));
    });
    expect(out).toContain("rejected 401");
    expect(out).not.toContain("connected");
  });

  it("keeps the channel in the app across a WebSocket drop: no new StasisStart, GET /applications lists it", async () => {
    const c = await connect();
    const started = nextEvent(c, "StasisStart");
    const id = fake.placeCall({ args: ["acme", "plain"] });
    await started;
    await (await c.channels.get({ channelId: id })).answer();

    const reconnected = new Promise<void>((resolve) => c.once("WebSocketConnected", () => resolve()));
    await fake.dropWebSocket();
    expect(fake.isConnected()).toBe(false);
    expect(() => fake.placeCall({ args: ["acme", "plain"] })).toThrow(/not active/);
    await reconnected; // ari-client reconnects by itself (100 ms backoff)
    await fake.waitForApp();

    const app = await c.applications.get({ applicationName: fake.app });
    expect(app.channel_ids).toEqual([id]);
    const all = await c.channels.list();
    expect(all.map((ch) => ch.id)).toContain(id);
    expect(seen.filter((e) => e.type === "StasisStart")).toHaveLength(1);

    const end = nextEvent(c, "StasisEnd");
    await (await c.channels.get({ channelId: id })).continueInDialplan({ context: "acc-dest", extension: "3-1", priority: 1 });
    await end;
    expect(fake.channelState(id)).toMatchObject({ state: "continued", extension: "3-1" });
  });

  it("moves a channel left in a dead app into its own: channels.move({channelId, app, appArgs}) → StasisStart with the args", async () => {
    // The dead agent: its app held the call when its WebSocket went away.
    const gone = await ari.connect(fake.url, fake.username, fake.password);
    await gone.start("crm-bridge-a");
    await fake.waitForApp("crm-bridge-a");
    const id = fake.placeCall({ app: "crm-bridge-a", args: ["acme", "sales"] });
    gone.stop();
    await fake.waitFor(() => !fake.isConnected("crm-bridge-a"), 2000, "crm-bridge-a inactive");

    const c = await connect();
    const started = nextEvent(c, "StasisStart", (e) => e.channel?.id === id);
    await c.channels.move({ channelId: id, app: fake.app, appArgs: "acme,sales" });
    expect((await started).args).toEqual(["acme", "sales"]);
    expect(fake.channelsInApp()).toEqual([id]);
    await expect(c.channels.move({ channelId: "1.999", app: fake.app })).rejects.toThrow(/Channel not found/);
  });

  it("delivers a caller hang-up mid-prompt as ChannelHangupRequest → PlaybackFinished failed → StasisEnd, then 404s", async () => {
    const c = await connect();
    const started = new Promise<Channel>((resolve) => c.once("StasisStart", (_e: AriEventJson, ch: Channel) => resolve(ch)));
    const id = fake.placeCall({ args: ["acme", "plain"] });
    const channel = await started;
    await channel.answer();
    await channel.play({ media: "sound:hello-world" });
    const end = nextEvent(c, "StasisEnd");
    fake.hangup(id);
    await end;
    expect(seen.map((e) => e.type).slice(-3)).toEqual(["ChannelHangupRequest", "PlaybackFinished", "StasisEnd"]);
    expect(seen.at(-2)?.playback?.state).toBe("failed");
    await expect(channel.answer()).rejects.toThrow("Channel not found");
    expect(fake.channelState(id)).toMatchObject({ state: "hungup", by: "caller", cause: 16 });
  });

  it("survives an Asterisk restart: ari-client reconnects once the port is back, old calls are gone", async () => {
    const c = await connect();
    const started = nextEvent(c, "StasisStart");
    const id = fake.placeCall({ args: ["acme", "plain"] });
    await started;
    await fake.restart({ downMs: 300 });
    await fake.waitForApp(undefined, 10_000);
    await expect(c.channels.get({ channelId: id })).rejects.toThrow("Channel not found");
    const again = nextEvent(c, "StasisStart");
    fake.placeCall({ args: ["acme", "vip"] });
    expect((await again).args).toEqual(["acme", "vip"]);
  });
});
