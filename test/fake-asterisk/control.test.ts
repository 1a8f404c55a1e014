// The by-hand tool: the control API drives a call the way README.md tells a
// user to with curl, and `npm run fake-asterisk` actually starts.

import { spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { startControlServer } from "./control.js";
import type { ControlServer } from "./control.js";
import { connectRawApp } from "./raw-client.js";
import type { RawAriApp } from "./raw-client.js";
import { startFakeAsterisk } from "./server.js";
import type { FakeAsterisk } from "./server.js";

let fake: FakeAsterisk | undefined;
let control: ControlServer | undefined;
let app: RawAriApp | undefined;

afterEach(async () => {
  app?.close();
  await control?.close();
  await fake?.close();
  app = undefined;
  control = undefined;
  fake = undefined;
});

async function post(url: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { method: "POST", ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("control API", () => {
  it("places a call, types digits, hangs up, and shows the commands the app sent", async () => {
    fake = await startFakeAsterisk({ playbackMs: 50 });
    control = await startControlServer(fake);
    // No app connected yet: the clear 409 the README promises for a call placed before the agent connects.
    const early = await post(`${control.url}/calls`, { tenant: "acme", node: "plain" });
    expect(early).toEqual({ status: 409, body: { error: "Stasis app 'crm-bridge' not active: no WebSocket is connected for it" } });

    app = await connectRawApp(fake);
    const placed = await post(`${control.url}/calls`, { tenant: "acme", node: "plain", callerNumber: "5550100" });
    expect(placed.status).toBe(201);
    const id = placed.body.channelId as string;
    expect((await app.nextEvent("StasisStart")).args).toEqual(["acme", "plain"]);

    await app.rest("POST", `/channels/${id}/answer`);
    expect((await post(`${control.url}/calls/${id}/dtmf`, { digits: "42#", gapMs: 1 })).status).toBe(200);
    await app.nextEvent("ChannelDtmfReceived", (e) => e.digit === "#");

    const state = (await (await fetch(`${control.url}/calls/${id}`)).json()) as Record<string, unknown>;
    expect(state).toMatchObject({ channelId: id, state: "inStasis", vars: {} });
    expect((await post(`${control.url}/calls/${id}/hangup`)).body).toMatchObject({ state: "hungup", by: "caller" });
    await app.nextEvent("StasisEnd");

    const commands = (await (await fetch(`${control.url}/commands`)).json()) as { method: string; path: string; status: number }[];
    expect(commands.map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([`POST /channels/${id}/answer 204`]);
    const events = (await (await fetch(`${control.url}/events?since=0`)).json()) as { event: { type: string } }[];
    expect(events.map((e) => e.event.type)).toContain("ChannelHangupRequest");
    expect((await post(`${control.url}/calls/nope/dtmf`, { digits: "1" })).status).toBe(404);
    expect((await post(`${control.url}/calls`, { tenant: "acme" })).status).toBe(400);
  });

  it("places calls with a caller: a number, a withheld one as Asterisk 22 shows it, a dialplan-set variable", async () => {
    fake = await startFakeAsterisk({ playbackMs: 50 });
    control = await startControlServer(fake);
    app = await connectRawApp(fake);
    const known = (await post(`${control.url}/calls`, { tenant: "acme", node: "plain", callerNumber: "+34911234567", callerName: "Ana" })).body.channelId as string;
    expect((await app.nextEvent("StasisStart")).channel).toMatchObject({ id: known, caller: { name: "Ana", number: "+34911234567" } });
    const withheld = (
      await post(`${control.url}/calls`, { tenant: "acme", node: "plain", callerNumber: "", callerName: "Anonymous", callerPresentation: "prohib_passed_screen", variables: { CRM_BRIDGE_CALLER_NUMBER: "0911234567" } })
    ).body.channelId as string;
    const start = await app.nextEvent("StasisStart");
    // The Channel model's CallerID is name and number only: the presentation is a dialplan function away.
    expect(start.channel).toMatchObject({ id: withheld, caller: { name: "Anonymous", number: "" } });
    expect(Object.keys((start.channel as { caller: object }).caller)).toEqual(["name", "number"]);
    expect((await app.rest("GET", `/channels/${withheld}/variable?variable=CALLERID(pres)`)).body).toEqual({ value: "prohib_passed_screen" });
    expect((await app.rest("GET", `/channels/${known}/variable?variable=CALLERID(pres)`)).body).toEqual({ value: "allowed_not_screened" });
    expect((await app.rest("GET", `/channels/${withheld}/variable?variable=CRM_BRIDGE_CALLER_NUMBER`)).body).toEqual({ value: "0911234567" });
    expect((await app.rest("GET", `/channels/${known}/variable?variable=CRM_BRIDGE_CALLER_NUMBER`)).status).toBe(404);
  });
});

describe("npm run fake-asterisk", () => {
  it("starts on the ports from the environment and serves ARI with the configured credentials", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "test/fake-asterisk/cli.ts"], {
      cwd: process.cwd(),
      env: { ...process.env, FAKE_ARI_PORT: "0", FAKE_ARI_CONTROL_PORT: "0", FAKE_ARI_USERNAME: "u", FAKE_ARI_PASSWORD: "p" },
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (b: Buffer) => {
          out += b.toString();
          const m = /ARI on (http:\/\/[^/]+)\/ari/.exec(out);
          if (m?.[1]) resolve(m[1]);
        });
        child.on("exit", (code) => reject(new Error(`exited ${code}: ${out}`)));
      });
      const ok = await fetch(`${url}/ari/asterisk/ping`, { headers: { Authorization: `Basic ${Buffer.from("u:p").toString("base64")}` } });
      expect(ok.status).toBe(200);
      expect((await fetch(`${url}/ari/asterisk/ping`)).status).toBe(401);
    } finally {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
  });
});
