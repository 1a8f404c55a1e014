// The ARI contract suite: what the agent may rely on, stated once, and checked
// against two sources — the traffic recorded from Asterisk 22.10.1 and the fake
// driven through the same scenarios. A claim that fails on the traces is a
// wrong claim; one that fails on the fake is a bug in the fake.

import { describe, expect, it } from "vitest";
import { ARI_TIMESTAMP } from "./ari-json.js";
import { eventsOf, restOf } from "./transcript.js";
import type { EventLine, RestLine, TraceName, Transcript } from "./transcript.js";

const CHANNEL_KEYS = ["id", "name", "state", "protocol_id", "caller", "connected", "accountcode", "dialplan", "creationtime", "language"];
const DIALPLAN_KEYS = ["context", "exten", "priority", "app_name", "app_data"];
const PLAYBACK_KEYS = ["id", "media_uri", "target_uri", "language", "state"];

type Channel = { id: string; name: string; state: string; dialplan: { app_name: string; app_data: string }; [k: string]: unknown };
type Playback = { id: string; state: string; media_uri: string; target_uri: string };

const typeOf = (l: EventLine): string => l.event.type as string;
const channelOf = (l: EventLine): Channel => l.event.channel as Channel;
const playbackOf = (l: EventLine): Playback => l.event.playback as Playback;
const indexOf = (t: Transcript, pred: (l: Transcript[number]) => boolean): number => t.findIndex(pred);
const isRest = (method: string, path: RegExp) => (l: Transcript[number]): l is RestLine => l.dir === "rest" && l.method === method && path.test(l.path);
const isEvent = (type: string, pred: (l: EventLine) => boolean = () => true) => (l: Transcript[number]): l is EventLine => l.dir === "event" && typeOf(l) === type && pred(l);

function only<T>(list: T[], what: string): T {
  expect(list, what).toHaveLength(1);
  return list[0] as T;
}

export function ariContractSuite(source: string, transcriptOf: (name: TraceName) => Promise<Transcript>): void {
  describe(`ARI contract (${source})`, () => {
    it("every event has Asterisk's envelope and field shapes", async () => {
      for (const name of ["01-barge-in-and-continue", "02-caller-hangs-up-mid-prompt", "03-app-websocket-drop-and-reconnect", "04-errors"] as const) {
        for (const line of eventsOf(await transcriptOf(name))) {
          const e = line.event;
          expect(e.timestamp, name).toMatch(ARI_TIMESTAMP);
          expect(e.application).toBe("crm-bridge");
          expect(e.asterisk_id).toEqual(expect.any(String));
          if (e.channel) {
            expect(Object.keys(e.channel as object)).toEqual(CHANNEL_KEYS);
            expect(Object.keys(channelOf(line).dialplan)).toEqual(DIALPLAN_KEYS);
            expect((e.channel as { creationtime: string }).creationtime).toMatch(ARI_TIMESTAMP);
          }
          if (e.playback) expect(Object.keys(e.playback as object)).toEqual(PLAYBACK_KEYS);
        }
        for (const r of restOf(await transcriptOf(name))) {
          if (r.status >= 400) expect(Object.keys(r.body as object), `${r.method} ${r.path}`).toEqual(["message"]);
          if (r.status === 204) expect(r.body).toBe("");
        }
      }
    });

    describe("01 barge-in and continue", () => {
      it("a call arrives as StasisStart in state Ring with the Stasis() args", async () => {
        const t = await transcriptOf("01-barge-in-and-continue");
        const first = eventsOf(t)[0];
        expect(first && typeOf(first)).toBe("StasisStart");
        if (!first) return;
        expect(first.event.args).toEqual(["acme", "plain"]);
        expect(channelOf(first).state).toBe("Ring");
        expect(channelOf(first).dialplan).toMatchObject({ app_name: "Stasis", app_data: "crm-bridge,acme,plain" });
        expect(channelOf(first).name).toMatch(/^Local\/acme\+plain@acc-in-[0-9a-f]{8};2$/);
      });

      it("answer: ChannelStateChange Up comes before the 204", async () => {
        const t = await transcriptOf("01-barge-in-and-continue");
        const change = indexOf(t, isEvent("ChannelStateChange", (l) => channelOf(l).state === "Up"));
        const answer = indexOf(t, isRest("POST", /\/answer$/));
        expect(change).toBeGreaterThanOrEqual(0);
        expect(change).toBeLessThan(answer);
        expect((t[answer] as RestLine).status).toBe(204);
      });

      it("play: 201 with the playback (state playing), and PlaybackStarted for the same playback", async () => {
        const t = await transcriptOf("01-barge-in-and-continue");
        const play = only(t.filter(isRest("POST", /\/play\//)), "play");
        expect(play.status).toBe(201);
        const body = play.body as Playback;
        expect(body).toMatchObject({ id: "pb-1795561994821", media_uri: "sound:hello-world", state: "playing" });
        expect(body.target_uri).toMatch(/^channel:/);
        const started = only(t.filter(isEvent("PlaybackStarted")), "PlaybackStarted");
        expect(playbackOf(started)).toEqual(body);
      });

      it("DTMF during the prompt arrives with digit and duration_ms; DELETE playback is 204, then PlaybackFinished done", async () => {
        const t = await transcriptOf("01-barge-in-and-continue");
        const digits = t.filter(isEvent("ChannelDtmfReceived"));
        expect(digits.map((d) => d.event.digit)).toEqual(["4", "3", "2", "1", "#"]);
        for (const d of digits) {
          expect(d.event.duration_ms).toBe(100);
          expect(channelOf(d).state).toBe("Up");
        }
        const stop = indexOf(t, isRest("DELETE", /^\/playbacks\//));
        const finished = indexOf(t, isEvent("PlaybackFinished"));
        expect((t[stop] as RestLine).status).toBe(204);
        expect(finished).toBeGreaterThan(stop);
        expect(playbackOf(t[finished] as EventLine).state).toBe("done");
        expect(indexOf(t, isEvent("ChannelDtmfReceived"))).toBeLessThan(stop);
      });

      it("variables: each set is 204 and announced by ChannelVarset; GET returns {value}", async () => {
        const t = await transcriptOf("01-barge-in-and-continue");
        const sets = t.filter(isRest("POST", /\/variable\?/));
        expect(sets.map((s) => s.status)).toEqual([204, 204]);
        const varsets = t.filter(isEvent("ChannelVarset")).map((l) => [l.event.variable, l.event.value]);
        expect(varsets).toEqual([["__OMLCODCLI", "4321"], ["CUSTOMER_ID", "4321"]]);
        const get = only(t.filter(isRest("GET", /\/variable\?/)), "get variable");
        expect(get).toMatchObject({ status: 200, body: { value: "4321" } });
      });

      it("continue: 204, then StasisEnd as the last event", async () => {
        const t = await transcriptOf("01-barge-in-and-continue");
        const cont = indexOf(t, isRest("POST", /\/continue\?/));
        expect((t[cont] as RestLine).status).toBe(204);
        const events = eventsOf(t);
        expect(typeOf(events[events.length - 1] as EventLine)).toBe("StasisEnd");
        expect(indexOf(t, isEvent("StasisEnd"))).toBeGreaterThan(cont);
      });
    });

    describe("02 caller hangs up mid-prompt", () => {
      it("ChannelHangupRequest (cause 16) → PlaybackFinished failed → StasisEnd, and no ChannelDestroyed", async () => {
        const t = await transcriptOf("02-caller-hangs-up-mid-prompt");
        const types = eventsOf(t).map(typeOf);
        expect(types).toEqual(["StasisStart", "ChannelStateChange", "PlaybackStarted", "ChannelHangupRequest", "PlaybackFinished", "StasisEnd"]);
        const events = eventsOf(t);
        expect(events[3]?.event.cause).toBe(16);
        expect(events[4] && playbackOf(events[4])).toMatchObject({ id: "pb-hang", state: "failed" });
      });

      it("afterwards every REST call on the channel is 404 Channel not found", async () => {
        const t = await transcriptOf("02-caller-hangs-up-mid-prompt");
        const end = indexOf(t, isEvent("StasisEnd"));
        const after = t.slice(end).filter((l): l is RestLine => l.dir === "rest");
        expect(after.length).toBeGreaterThanOrEqual(2);
        for (const r of after) expect(r).toMatchObject({ status: 404, body: { message: "Channel not found" } });
      });
    });

    describe("03 app WebSocket drop and reconnect", () => {
      it("the channel stays in the app: GET /applications lists it before and after the reconnect", async () => {
        const t = await transcriptOf("03-app-websocket-drop-and-reconnect");
        const start = only(t.filter(isEvent("StasisStart")), "StasisStart");
        const apps = t.filter(isRest("GET", /^\/applications\/crm-bridge$/));
        expect(apps).toHaveLength(2);
        for (const a of apps) {
          expect(a.status).toBe(200);
          expect((a.body as { channel_ids: string[] }).channel_ids).toEqual([channelOf(start).id]);
        }
        const reopened = indexOf(t, (l) => l.dir === "note" && /reopened/.test(l.text));
        expect(indexOf(t, isRest("GET", /^\/applications\//))).toBeLessThan(reopened);
      });

      it("GET /channels also lists the caller's half of the Local pair, which is not in the app", async () => {
        const t = await transcriptOf("03-app-websocket-drop-and-reconnect");
        const list = only(t.filter(isRest("GET", /^\/channels$/)), "GET /channels");
        const names = (list.body as Channel[]).map((c) => c.name.slice(-2));
        expect(names).toEqual([";1", ";2"]);
      });

      it("no new StasisStart after the reconnect; continue still works and ends Stasis", async () => {
        const t = await transcriptOf("03-app-websocket-drop-and-reconnect");
        expect(t.filter(isEvent("StasisStart"))).toHaveLength(1);
        const cont = indexOf(t, isRest("POST", /\/continue\?/));
        expect((t[cont] as RestLine).status).toBe(204);
        expect(indexOf(t, isEvent("StasisEnd"))).toBeGreaterThan(cont);
      });
    });

    describe("04 errors", () => {
      it("wrong password: 401 Authentication required; unknown channel: 404 Channel not found", async () => {
        const t = await transcriptOf("04-errors");
        const rest = restOf(t);
        expect(rest[0]).toMatchObject({ method: "GET", path: "/channels", status: 401, body: { message: "Authentication required" } });
        expect(rest[1]).toMatchObject({ path: "/channels/no-such-channel/answer", status: 404, body: { message: "Channel not found" } });
      });

      it("a missing sound: 201 playing, PlaybackStarted, then PlaybackFinished failed by itself", async () => {
        const t = await transcriptOf("04-errors");
        const play = only(t.filter(isRest("POST", /\/play\//)), "play");
        expect(play).toMatchObject({ status: 201, body: { id: "pb-missing", media_uri: "sound:no-such-file", state: "playing" } });
        const pbEvents = t.filter((l): l is EventLine => l.dir === "event" && l.event.playback !== undefined);
        expect(pbEvents.map((l) => [typeOf(l), playbackOf(l).state])).toEqual([["PlaybackStarted", "playing"], ["PlaybackFinished", "failed"]]);
        expect(t.filter(isRest("DELETE", /^\/playbacks\//))).toHaveLength(0);
      });

      it("continue to a context that does not exist: 204 and StasisEnd, then the channel is gone (404)", async () => {
        const t = await transcriptOf("04-errors");
        const cont = indexOf(t, isRest("POST", /\/continue\?context=no-such-context/));
        expect((t[cont] as RestLine).status).toBe(204);
        expect(indexOf(t, isEvent("StasisEnd"))).toBeGreaterThan(cont);
        const last = restOf(t).at(-1);
        expect(last).toMatchObject({ method: "DELETE", status: 404, body: { message: "Channel not found" } });
      });
    });
  });
}
