// The channel/playback state machine of the fake Asterisk. No sockets here: the
// server hands it parsed REST calls and delivers what it emits.
//
// Behaviour follows ../shared/ari-traces/ (Asterisk 22.10.1) first and the
// Asterisk source (res/ari/resource_channels.c, res/stasis/control.c,
// res/res_stasis_playback.c) where the traces are silent. The one property that
// shapes everything: each channel in Stasis has ONE command queue run by the
// channel's own thread. A playback occupies that thread until it ends, so
// answer/setChannelVar (synchronous) wait behind it, `continue` (asynchronous)
// replies 204 at once but only takes effect after it, and a second play is
// `queued`.

import { ariTimestamp, ERRORS } from "./ari-json.js";
import type { AriEvent, ChannelJson, PlaybackJson, PlaybackState, ApplicationJson } from "./ari-json.js";
import type { Operation } from "./swagger.js";

export interface PbxOptions {
  asteriskId: string;
  language: string;
  /** How long one media item plays before PlaybackFinished `done`. */
  playbackMs: number | ((mediaUri: string) => number);
  /** Media that Asterisk would not find: 201, PlaybackStarted, then PlaybackFinished `failed`. */
  isMissingSound: (mediaUri: string) => boolean;
  /** Contexts that do not exist: `continue` is 204 + StasisEnd, then the call falls off the dialplan. */
  isMissingContext: (context: string) => boolean;
  /** Asterisk 22 sends ChannelVarset for variables set over ARI (trace 01). */
  channelVarsetEvents: boolean;
  /** Asterisk 22 unsubscribes the app before the channel dies (trace 02 has none); on for robustness tests. */
  channelDestroyedEvents: boolean;
  /** Trace 04: a missing sound fails ~2 ms after PlaybackStarted. */
  missingSoundFailMs: number;
}

export type ChannelPhase =
  | { state: "inStasis" }
  | { state: "continued"; context: string; extension: string; priority: number }
  | { state: "hungup"; cause: number; by: "caller" | "app" | "dialplan"; continuedTo?: { context: string; extension: string; priority: number } };

export interface RestReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Runs after the reply is written: what Asterisk does on the channel thread afterwards. */
  after?: () => void;
}

export type Query = Record<string, string | string[] | undefined>;

interface PlaybackRecord {
  id: string;
  channelId: string;
  medias: string[];
  index: number;
  language: string;
  state: PlaybackState;
  controllable: boolean;
  cancelled: boolean;
  timer?: ReturnType<typeof setTimeout>;
}

interface Command {
  exec: (ch: ChannelRecord) => void;
  /** Completes a synchronous command that never ran (hang-up flushed the queue). */
  abort?: () => void;
}

interface ChannelRecord {
  json: ChannelJson;
  app: string;
  args: string[];
  phase: ChannelPhase;
  vars: Map<string, string>;
  queue: Command[];
  current?: PlaybackRecord;
  peerId?: string;
  /** CALLERID(pres): not in the Channel JSON (Asterisk's CallerID model is name and number only). */
  callerPres?: string;
  /** For the `;1` half: the `;2` half that is in Stasis. */
  stasisHalfId?: string;
}

export interface PlaceCallOptions {
  args: string[];
  app: string;
  callerNumber?: string;
  callerName?: string;
  callerPresentation?: string;
  variables?: Record<string, string>;
  context?: string;
  exten?: string;
}

const HANGUP_REASONS: Record<string, number> = {
  normal: 16, busy: 17, congestion: 34, no_answer: 19, timeout: 18, rejected: 21, unallocated: 1,
  normal_unspecified: 31, number_incomplete: 28, codec_mismatch: 58, interworking: 127, failure: 38, answered_elsewhere: 26,
};

// ast_softhangup() publishes the soft-hangup *flag* as `cause`; ARI's hangup
// passes AST_SOFTHANGUP_EXPLICIT (1 << 5), so an app-initiated hangup reports 32.
const SOFTHANGUP_EXPLICIT = 32;
const CAUSE_NORMAL_CLEARING = 16;
/** How many hung-up channels keep their final state and variables for tests to read. */
const GONE_KEPT = 10_000;

const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);
const nonEmpty = (v: string | string[] | undefined): string | undefined => {
  const s = first(v);
  return s === undefined || s === "" ? undefined : s;
};
const err = (status: number, body: unknown): RestReply => ({ status, body });

export class Pbx {
  private readonly channels = new Map<string, ChannelRecord>();
  private readonly playbacks = new Map<string, PlaybackRecord>();
  /** app name → active (a WebSocket is attached). Inactive apps linger while they hold channels. */
  private readonly apps = new Map<string, boolean>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  /** Dialplan globals (`GLOBAL()`, ARI `/asterisk/variable`); gone with a restart like everything else. */
  private readonly globals = new Map<string, string>();
  /** Hung-up channels keep their last phase and variables so tests can assert after the fact. */
  private readonly gone = new Map<string, ChannelPhase>();
  private readonly goneVars = new Map<string, Map<string, string>>();
  private channelCounter = 0;
  private localCounter = 0;

  constructor(
    private readonly opts: PbxOptions,
    private readonly emit: (app: string, event: AriEvent) => void,
    private readonly changed: () => void,
  ) {}

  // ---- apps -------------------------------------------------------------

  setAppActive(app: string, active: boolean): void {
    this.apps.set(app, active);
    this.changed();
  }

  isAppActive(app: string): boolean {
    return this.apps.get(app) === true;
  }

  // ---- what the caller / test does ----------------------------------------

  placeCall(o: PlaceCallOptions): string {
    // res_stasis: "Stasis app '%s' not active" -> Stasis() fails, the call never enters the app.
    if (!this.isAppActive(o.app)) throw new Error(`Stasis app '${o.app}' not active: no WebSocket is connected for it`);
    const now = new Date();
    const exten = o.exten ?? o.args.slice(0, 2).join("+");
    const context = o.context ?? "acc-in";
    const localName = `Local/${exten}@${context}-${(this.localCounter++).toString(16).padStart(8, "0")}`;
    const base = {
      protocol_id: "",
      caller: { name: o.callerName ?? "", number: o.callerNumber ?? "" },
      connected: { name: "", number: "" },
      accountcode: "",
      creationtime: ariTimestamp(now),
      language: this.opts.language,
    };
    const idStem = Math.floor(now.getTime() / 1000);
    const peerId = `${idStem}.${this.channelCounter++}`;
    const id = `${idStem}.${this.channelCounter++}`;
    // The caller's half of the Local pair. The traces' recorder parked it in its
    // own app (`acc-caller`); it shows up in GET /channels, never in our app.
    const peer: ChannelRecord = {
      json: {
        id: peerId, name: `${localName};1`, state: "Up", protocol_id: base.protocol_id, caller: { ...base.caller }, connected: base.connected,
        accountcode: "", dialplan: { context, exten, priority: 1, app_name: "Stasis", app_data: "acc-caller" }, creationtime: base.creationtime, language: base.language,
      },
      app: "acc-caller", args: [], phase: { state: "continued", context, extension: exten, priority: 1 }, vars: new Map(), queue: [], stasisHalfId: id,
    };
    const ch: ChannelRecord = {
      json: {
        id, name: `${localName};2`, state: "Ring", protocol_id: base.protocol_id, caller: base.caller, connected: { ...base.connected },
        accountcode: "", dialplan: { context, exten, priority: 3, app_name: "Stasis", app_data: [o.app, ...o.args].join(",") }, creationtime: base.creationtime, language: base.language,
      },
      app: o.app, args: o.args, phase: { state: "inStasis" }, vars: new Map(Object.entries(o.variables ?? {})), queue: [], peerId,
      callerPres: o.callerPresentation ?? "allowed_not_screened",
    };
    this.channels.set(peerId, peer);
    this.channels.set(id, ch);
    this.emit(o.app, { type: "StasisStart", timestamp: ariTimestamp(), args: [...o.args], channel: this.snapshot(ch), ...this.tail(o.app) });
    this.changed();
    return id;
  }

  sendDtmf(channelId: string, digit: string, durationMs: number): void {
    const ch = this.live(channelId);
    if (ch.phase.state !== "inStasis") return; // dialplan owns it now; the app hears nothing
    this.emit(ch.app, { type: "ChannelDtmfReceived", timestamp: ariTimestamp(), digit, duration_ms: durationMs, channel: this.snapshot(ch), ...this.tail(ch.app) });
  }

  /** The caller hangs up (trace 02). Returns false if the channel was already gone. */
  callerHangup(channelId: string): boolean {
    const found = this.channels.get(channelId);
    if (!found) return false;
    const ch = found.stasisHalfId ? this.channels.get(found.stasisHalfId) ?? found : found;
    if (ch.phase.state === "inStasis") {
      this.emit(ch.app, { cause: CAUSE_NORMAL_CLEARING, type: "ChannelHangupRequest", timestamp: ariTimestamp(), channel: this.snapshot(ch), ...this.tail(ch.app) });
      this.terminate(ch, CAUSE_NORMAL_CLEARING, "caller");
    } else {
      this.remove(ch, { state: "hungup", cause: CAUSE_NORMAL_CLEARING, by: "caller", ...(ch.phase.state === "continued" ? { continuedTo: this.target(ch.phase) } : {}) });
    }
    return true;
  }

  phase(channelId: string): ChannelPhase | undefined {
    return this.channels.get(channelId)?.phase ?? this.gone.get(channelId);
  }

  vars(channelId: string): Record<string, string> {
    const vars = this.channels.get(channelId)?.vars ?? this.goneVars.get(channelId);
    if (!vars) throw new Error(`unknown channel ${channelId}`);
    return Object.fromEntries(vars);
  }

  channelIdsInApp(app: string): string[] {
    return [...this.channels.values()].filter((c) => c.app === app && c.phase.state === "inStasis").map((c) => c.json.id);
  }

  /** Asterisk going away: every channel, playback and app vanishes without an event. */
  reset(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const ch of [...this.channels.values()]) {
      for (const c of ch.queue) c.abort?.();
      if (ch.phase.state !== "hungup") this.remember(ch.json.id, { state: "hungup", cause: 0, by: "dialplan" }, ch.vars);
    }
    this.channels.clear();
    this.playbacks.clear();
    this.apps.clear();
    this.globals.clear();
    this.changed();
  }

  // ---- REST ----------------------------------------------------------------

  handle(op: Operation, params: Record<string, string>, q: Query): RestReply | Promise<RestReply> {
    switch (`${op.resource}.${op.nickname}`) {
      case "asterisk.getInfo":
        return { status: 200, body: { build: { os: "Linux", kernel: "fake", machine: "x86_64", options: "", date: "", user: "" }, system: { version: "22.10.1 (fake)", entity_id: this.opts.asteriskId }, config: { name: "", default_language: this.opts.language }, status: { startup_time: ariTimestamp(), last_reload_time: ariTimestamp() } } };
      case "asterisk.getGlobalVar": {
        const variable = nonEmpty(q.variable);
        if (!variable) return err(400, { message: "Variable name is required" });
        // pbx_builtin_getvar_helper() of an unset global is NULL: ARI answers 200 with "".
        return { status: 200, body: { value: this.globals.get(variable) ?? "" } };
      }
      case "asterisk.setGlobalVar": {
        const variable = nonEmpty(q.variable);
        if (!variable) return err(400, { message: "Variable name is required" });
        this.globals.set(variable, first(q.value) ?? "");
        return { status: 204 };
      }
      case "asterisk.ping":
        return { status: 200, body: { asterisk_id: this.opts.asteriskId, ping: "pong", timestamp: ariTimestamp() } };
      case "channels.list":
        return { status: 200, body: [...this.channels.values()].map((c) => this.snapshot(c)) };
      case "channels.get": {
        const ch = this.channels.get(params.channelId ?? "");
        return ch ? { status: 200, body: this.snapshot(ch) } : err(404, ERRORS.channelNotFound);
      }
      case "channels.hangup":
        return this.restHangup(params.channelId ?? "", q);
      case "channels.continueInDialplan":
        return this.restContinue(params.channelId ?? "", q);
      case "channels.move":
        return this.restMove(params.channelId ?? "", nonEmpty(q.app), first(q.appArgs));
      case "channels.answer":
        return this.restAnswer(params.channelId ?? "");
      case "channels.play":
        return this.restPlay(params.channelId ?? "", nonEmpty(q.playbackId), q);
      case "channels.playWithId":
        return this.restPlay(params.channelId ?? "", params.playbackId, q);
      case "channels.getChannelVar":
        return this.restGetVar(params.channelId ?? "", nonEmpty(q.variable));
      case "channels.setChannelVar":
        return this.restSetVar(params.channelId ?? "", nonEmpty(q.variable), first(q.value));
      case "playbacks.get": {
        const pb = this.playbacks.get(params.playbackId ?? "");
        return pb ? { status: 200, body: this.playbackJson(pb) } : err(404, ERRORS.playbackNotFound);
      }
      case "playbacks.stop":
        return this.restStop(params.playbackId ?? "");
      case "applications.list":
        return { status: 200, body: [...this.apps.keys()].filter((a) => this.appVisible(a)).map((a) => this.applicationJson(a)) };
      case "applications.get": {
        const app = params.applicationName ?? "";
        return this.appVisible(app) ? { status: 200, body: this.applicationJson(app) } : err(404, ERRORS.applicationNotFound);
      }
      default:
        return err(501, { message: "Not implemented by the fake" });
    }
  }

  /** find_control(): 404 when the channel does not exist, 409 when it is not in Stasis. */
  private control(channelId: string): ChannelRecord | RestReply {
    const ch = this.channels.get(channelId);
    if (!ch) return err(404, ERRORS.channelNotFound);
    if (ch.phase.state !== "inStasis") return err(409, ERRORS.channelNotInStasis);
    return ch;
  }

  private restAnswer(channelId: string): RestReply | Promise<RestReply> {
    const ch = this.control(channelId);
    if (!("json" in ch)) return ch;
    return this.runSync(ch, () => {
      if (ch.json.state !== "Up") {
        ch.json.state = "Up";
        this.emit(ch.app, { type: "ChannelStateChange", timestamp: ariTimestamp(), channel: this.snapshot(ch), ...this.tail(ch.app) });
      }
    }, { status: 204 }, err(500, { message: "Failed to answer channel" }));
  }

  private restSetVar(channelId: string, variable: string | undefined, value: string | undefined): RestReply | Promise<RestReply> {
    if (!variable) return err(400, { message: "Variable name is required" });
    const ch = this.control(channelId);
    if (!("json" in ch)) return ch;
    return this.runSync(ch, () => {
      if (value === undefined) ch.vars.delete(variable);
      else ch.vars.set(variable, value);
      if (this.opts.channelVarsetEvents) {
        this.emit(ch.app, { variable, value: value ?? "", type: "ChannelVarset", timestamp: ariTimestamp(), channel: this.snapshot(ch), ...this.tail(ch.app) });
      }
    }, { status: 204 }, err(400, { message: "Failed to execute function" }));
  }

  private restGetVar(channelId: string, variable: string | undefined): RestReply {
    if (!variable) return err(400, { message: "Variable name is required" });
    const ch = this.channels.get(channelId);
    if (!ch) return err(404, { message: "Provided channel was not found" });
    const fn = /^CALLERID\((num|name|pres)\)$/.exec(variable);
    if (fn) return { status: 200, body: { value: fn[1] === "num" ? ch.json.caller.number : fn[1] === "name" ? ch.json.caller.name : (ch.callerPres ?? "allowed_not_screened") } };
    if (variable.endsWith(")")) return err(500, { message: "Unable to read provided function" });
    const value = ch.vars.get(variable) ?? ch.vars.get(`_${variable}`) ?? ch.vars.get(`__${variable}`);
    return value === undefined ? err(404, { message: "Provided variable was not found" }) : { status: 200, body: { value } };
  }

  private restContinue(channelId: string, q: Query): RestReply {
    const ch = this.control(channelId);
    if (!("json" in ch)) return ch;
    const argContext = nonEmpty(q.context);
    const argExten = nonEmpty(q.extension);
    const argPriority = Number.parseInt(first(q.priority) ?? "", 10);
    const label = nonEmpty(q.label);
    const context = argContext ?? ch.json.dialplan.context;
    const extension = argContext ? argExten ?? "s" : argExten ?? ch.json.dialplan.exten;
    let priority: number;
    if (label !== undefined) {
      priority = Number.parseInt(label, 10);
      if (Number.isNaN(priority)) return err(404, { message: "Requested label can not be found" });
      if (priority === 0) return err(400, { message: "Requested priority is illegal" });
    } else if (argPriority > 0) priority = argPriority;
    else if (!argContext && !argExten) priority = ch.json.dialplan.priority + 1;
    else priority = 1;
    ch.queue.push({
      exec: (c) => {
        this.emit(c.app, { type: "StasisEnd", timestamp: ariTimestamp(), channel: this.snapshot(c), ...this.tail(c.app) });
        for (const rest of c.queue.splice(0)) rest.abort?.();
        const to = { context, extension, priority };
        c.json.dialplan = { context, exten: extension, priority, app_name: "", app_data: "" };
        if (this.opts.isMissingContext(context)) {
          // Trace 04: the channel falls off the dialplan and is hung up; the app, already unsubscribed, hears nothing.
          this.remove(c, { state: "hungup", cause: CAUSE_NORMAL_CLEARING, by: "dialplan", continuedTo: to });
        } else {
          c.phase = { state: "continued", ...to };
          this.changed();
        }
      },
    });
    return { status: 204, after: () => this.pump(ch) };
  }

  /**
   * POST /channels/{id}/move (ARI since 13.26/16.3). `ast_ari_channels_move()` only queues the move
   * on the channel's control (`stasis_app_control_move()`, asynchronous like `continue`) and answers
   * 204; whether the target app exists is found out later, on the channel thread: StasisEnd to the
   * old app then StasisStart (args from appArgs) to the new one, or, when the new app is not there,
   * ApplicationMoveFailed to the old app and the channel stays where it was.
   */
  private restMove(channelId: string, app: string | undefined, appArgs: string | undefined): RestReply {
    const ch = this.control(channelId);
    if (!("json" in ch)) return ch;
    // Not from the Asterisk source (the swagger marks `app` required; the handler would pass NULL on).
    if (!app) return err(400, { message: "app is required" });
    const args = appArgs === undefined || appArgs === "" ? [] : appArgs.split(",");
    ch.queue.push({
      exec: (c) => {
        if (!this.isAppActive(app)) {
          this.emit(c.app, { type: "ApplicationMoveFailed", timestamp: ariTimestamp(), channel: this.snapshot(c), destination: app, args: [...args], ...this.tail(c.app) });
          return;
        }
        this.emit(c.app, { type: "StasisEnd", timestamp: ariTimestamp(), channel: this.snapshot(c), ...this.tail(c.app) });
        c.app = app;
        c.args = args;
        c.json.dialplan = { ...c.json.dialplan, app_data: [app, ...args].join(",") };
        this.emit(app, { type: "StasisStart", timestamp: ariTimestamp(), args: [...args], channel: this.snapshot(c), ...this.tail(app) });
        this.changed();
      },
    });
    return { status: 204, after: () => this.pump(ch) };
  }

  private restHangup(channelId: string, q: Query): RestReply {
    const found = this.channels.get(channelId);
    if (!found) return err(404, ERRORS.channelNotFound);
    const reason = nonEmpty(q.reason);
    const reasonCode = nonEmpty(q.reason_code);
    if (reason && reasonCode) return err(400, { message: "The reason and reason_code can't both be specified" });
    let cause = CAUSE_NORMAL_CLEARING;
    if (reasonCode) {
      cause = Number.parseInt(reasonCode, 10);
      if (Number.isNaN(cause)) return err(400, { message: "Invalid reason for hangup reason code provided" });
    } else if (reason) {
      const c = HANGUP_REASONS[reason];
      if (c === undefined) return err(400, { message: "Invalid reason for hangup reason provided" });
      cause = c;
    }
    if (found.stasisHalfId) {
      // Hanging up the caller's half: to our app that is the caller hanging up.
      const half = found.stasisHalfId;
      return { status: 204, after: () => void this.callerHangup(half) };
    }
    const ch = found;
    if (ch.phase.state !== "inStasis") {
      return { status: 204, after: () => this.remove(ch, { state: "hungup", cause, by: "app", ...(ch.phase.state === "continued" ? { continuedTo: this.target(ch.phase) } : {}) }) };
    }
    this.emit(ch.app, { cause: SOFTHANGUP_EXPLICIT, soft: true, type: "ChannelHangupRequest", timestamp: ariTimestamp(), channel: this.snapshot(ch), ...this.tail(ch.app) });
    return { status: 204, after: () => this.terminate(ch, cause, "app") };
  }

  private restPlay(channelId: string, playbackId: string | undefined, q: Query): RestReply {
    const ch = this.control(channelId);
    if (!("json" in ch)) return ch;
    const skipms = Number.parseInt(first(q.skipms) ?? "0", 10);
    const offsetms = Number.parseInt(first(q.offsetms) ?? "0", 10);
    if (skipms < 0) return err(400, { message: "skipms cannot be negative" });
    if (offsetms < 0) return err(400, { message: "offsetms cannot be negative" });
    const raw = q.media;
    const medias = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).flatMap((m) => m.split(","));
    if (medias.length === 0 || medias.some((m) => m === "")) return err(500, { message: "Failed to queue media for playback" });
    const pb: PlaybackRecord = {
      id: playbackId ?? crypto.randomUUID(),
      channelId,
      medias,
      index: 0,
      language: nonEmpty(q.lang) ?? ch.json.language,
      state: "queued",
      controllable: false,
      cancelled: false,
    };
    this.playbacks.set(pb.id, pb);
    ch.queue.push({ exec: (c) => this.startPlayback(c, pb), abort: () => this.playbacks.delete(pb.id) });
    // Traces 01/04: PlaybackStarted reaches the app before the 201 when the channel is idle.
    this.pump(ch);
    return { status: 201, body: this.playbackJson(pb), headers: { Location: `/playbacks/${pb.id}` } };
  }

  private restStop(playbackId: string): RestReply {
    const pb = this.playbacks.get(playbackId);
    if (!pb) return err(404, ERRORS.playbackNotFound);
    if (pb.state === "queued") {
      pb.cancelled = true;
      return { status: 204 };
    }
    if (pb.state === "playing" || pb.state === "continuing") {
      // digits:/number:/characters: cannot be stopped (playback->controllable stays 0).
      if (!pb.controllable) return err(500, { message: "Could not stop playback" });
      this.clearTimer(pb);
      // Trace 01: 204 first, then PlaybackFinished `done`.
      return { status: 204, after: () => this.finishMedia(pb, "stopped") };
    }
    return { status: 204 };
  }

  // ---- the channel thread ----------------------------------------------------

  private runSync(ch: ChannelRecord, work: () => void, ok: RestReply, failed: RestReply): RestReply | Promise<RestReply> {
    return new Promise<RestReply>((resolve) => {
      ch.queue.push({
        exec: () => {
          work();
          resolve(ok);
        },
        abort: () => resolve(failed),
      });
      this.pump(ch);
    });
  }

  private pump(ch: ChannelRecord): void {
    while (!ch.current && ch.queue.length > 0 && this.channels.get(ch.json.id) === ch && ch.phase.state === "inStasis") {
      const cmd = ch.queue.shift();
      cmd?.exec(ch);
    }
  }

  private startPlayback(ch: ChannelRecord, pb: PlaybackRecord): void {
    if (pb.cancelled) {
      // playback_first_update() on a cancelled playback publishes it as `done`.
      pb.state = "done";
      this.publishPlayback(ch, pb);
      this.playbacks.delete(pb.id);
      return;
    }
    ch.current = pb;
    this.startMedia(ch, pb);
  }

  private startMedia(ch: ChannelRecord, pb: PlaybackRecord): void {
    const media = pb.medias[pb.index] ?? "";
    if (/^(sound|recording|tone):/.test(media)) pb.controllable = true;
    pb.state = "playing";
    this.publishPlayback(ch, pb);
    const missing = media.startsWith("sound:") && this.opts.isMissingSound(media);
    const ms = missing ? this.opts.missingSoundFailMs : typeof this.opts.playbackMs === "function" ? this.opts.playbackMs(media) : this.opts.playbackMs;
    pb.timer = this.setTimer(() => {
      pb.timer = undefined;
      this.finishMedia(pb, missing ? "failed" : "ok");
    }, ms);
  }

  private finishMedia(pb: PlaybackRecord, how: "ok" | "failed" | "stopped" | "hangup"): void {
    const ch = this.channels.get(pb.channelId);
    if (!ch || ch.current !== pb) return;
    const last = pb.index === pb.medias.length - 1;
    if (how === "stopped") pb.state = "done";
    else if (how === "hangup") pb.state = "failed";
    else if (!last) pb.state = "continuing";
    else pb.state = how === "ok" ? "done" : "failed";
    this.publishPlayback(ch, pb);
    if (pb.state === "continuing") {
      pb.index++;
      this.startMedia(ch, pb);
      return;
    }
    ch.current = undefined;
    this.playbacks.delete(pb.id);
    if (how !== "hangup") this.pump(ch);
  }

  private publishPlayback(ch: ChannelRecord, pb: PlaybackRecord): void {
    const type = pb.state === "playing" ? "PlaybackStarted" : pb.state === "continuing" ? "PlaybackContinuing" : "PlaybackFinished";
    this.emit(ch.app, { type, timestamp: ariTimestamp(), playback: this.playbackJson(pb), ...this.tail(ch.app) });
  }

  /** The channel leaves Stasis because it is hanging up (trace 02 order). */
  private terminate(ch: ChannelRecord, cause: number, by: "caller" | "app"): void {
    if (this.channels.get(ch.json.id) !== ch || ch.phase.state !== "inStasis") return;
    if (ch.current) {
      this.clearTimer(ch.current);
      this.finishMedia(ch.current, "hangup");
    }
    for (const c of ch.queue.splice(0)) c.abort?.();
    this.emit(ch.app, { type: "StasisEnd", timestamp: ariTimestamp(), channel: this.snapshot(ch), ...this.tail(ch.app) });
    if (this.opts.channelDestroyedEvents) {
      this.emit(ch.app, { type: "ChannelDestroyed", timestamp: ariTimestamp(), cause, cause_txt: cause === 16 ? "Normal Clearing" : "Unknown", channel: this.snapshot(ch), ...this.tail(ch.app) });
    }
    this.remove(ch, { state: "hungup", cause, by });
  }

  private remove(ch: ChannelRecord, phase: ChannelPhase): void {
    ch.phase = phase;
    this.channels.delete(ch.json.id);
    this.remember(ch.json.id, phase, ch.vars);
    if (ch.peerId) {
      this.channels.delete(ch.peerId);
      this.remember(ch.peerId, { state: "hungup", cause: phase.state === "hungup" ? phase.cause : 16, by: "dialplan" }, new Map());
    }
    for (const [id, pb] of this.playbacks) if (pb.channelId === ch.json.id) this.playbacks.delete(id);
    this.changed();
  }

  private remember(id: string, phase: ChannelPhase, vars: Map<string, string>): void {
    this.gone.set(id, phase);
    this.goneVars.set(id, vars);
    // Bounded so that a long benchmark run does not grow without limit; Maps iterate oldest first.
    for (const map of [this.gone, this.goneVars]) {
      if (map.size > GONE_KEPT) {
        const oldest = map.keys().next().value;
        if (oldest !== undefined) map.delete(oldest);
      }
    }
  }

  // ---- JSON --------------------------------------------------------------------

  private snapshot(ch: ChannelRecord): ChannelJson {
    return structuredClone(ch.json);
  }

  private playbackJson(pb: PlaybackRecord): PlaybackJson {
    const next = pb.medias[pb.index + 1];
    return {
      id: pb.id,
      media_uri: pb.medias[pb.index] ?? "",
      ...(next !== undefined ? { next_media_uri: next } : {}),
      target_uri: `channel:${pb.channelId}`,
      language: pb.language,
      state: pb.state,
    };
  }

  private applicationJson(app: string): ApplicationJson {
    return { name: app, channel_ids: this.channelIdsInApp(app), bridge_ids: [], endpoint_ids: [], device_names: [], events_allowed: [], events_disallowed: [] };
  }

  /** An app outlives its WebSocket while it still holds channels (trace 03). */
  private appVisible(app: string): boolean {
    return this.apps.has(app) && (this.isAppActive(app) || this.channelIdsInApp(app).length > 0);
  }

  private tail(app: string): { asterisk_id: string; application: string } {
    return { asterisk_id: this.opts.asteriskId, application: app };
  }

  private target(p: { context: string; extension: string; priority: number }): { context: string; extension: string; priority: number } {
    return { context: p.context, extension: p.extension, priority: p.priority };
  }

  private live(channelId: string): ChannelRecord {
    const ch = this.channels.get(channelId);
    if (!ch) throw new Error(`channel ${channelId} does not exist (hung up or never placed)`);
    return ch;
  }

  private setTimer(fn: () => void, ms: number): ReturnType<typeof setTimeout> {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  private clearTimer(pb: PlaybackRecord): void {
    if (pb.timer) {
      clearTimeout(pb.timer);
      this.timers.delete(pb.timer);
      pb.timer = undefined;
    }
  }
}
