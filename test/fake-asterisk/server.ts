// The fake Asterisk's sockets: ARI REST + the events WebSocket on one port, a
// recorder of everything that crosses them, and the API tests drive it with.

import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { EventEmitter } from "node:events";
import { WebSocketServer, WebSocket } from "ws";
import { ariTimestamp, ERRORS } from "./ari-json.js";
import type { AriEvent, AriEventType } from "./ari-json.js";
import { Pbx } from "./pbx.js";
import type { ChannelPhase, Query, RestReply } from "./pbx.js";
import { apiDeclaration, matchOperation, resourceListing, RESOURCES } from "./swagger.js";
import type { ResourceName } from "./swagger.js";

export interface FakeAsteriskOptions {
  username?: string;
  password?: string;
  /** The Stasis app calls are placed into by default. */
  app?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Length of each media item of a playback, ms (default 1000). */
  playbackMs?: number | ((mediaUri: string) => number);
  /** Default: `sound:no-such…`. */
  isMissingSound?: (mediaUri: string) => boolean;
  /** Default: contexts starting with `no-such`. */
  isMissingContext?: (context: string) => boolean;
  language?: string;
  asteriskId?: string;
  channelVarsetEvents?: boolean;
  channelDestroyedEvents?: boolean;
  /** Keep `commands`/`events` (default true); benchmarks turn it off. */
  record?: boolean;
  /** Called for every REST command answered (the CLI prints them). */
  onCommand?: (c: RecordedCommand) => void;
  /** Called for every event emitted, delivered or not. */
  onEvent?: (e: RecordedEvent) => void;
}

export interface RecordedCommand {
  seq: number;
  time: string;
  method: string;
  /** Below `/ari`, decoded, without the query: `/channels/1795561994.1/answer`. */
  path: string;
  query: Query;
  /** Parsed JSON body, raw text if not JSON, undefined if empty. */
  body: unknown;
  status: number;
  response: unknown;
  /** `seq` of the last event emitted before the reply was written. */
  lastEventSeqBeforeReply: number;
}

export interface RecordedEvent {
  seq: number;
  time: string;
  app: string;
  event: AriEvent;
  /** False when no WebSocket was attached for the app: Asterisk drops those. */
  delivered: boolean;
}

export interface PlaceCallOptions {
  /** Stasis() arguments after the app name: `[tenant, node]`. */
  args: string[];
  callerNumber?: string;
  callerName?: string;
  /**
   * CALLERID(pres), readable through GET /channels/{id}/variable. A withheld caller as Asterisk
   * 22 shows it: `callerNumber: ""`, `callerName: "Anonymous"`, `callerPresentation: "prohib_passed_screen"`.
   */
  callerPresentation?: string;
  /** Channel variables the dialplan set before Stasis() (e.g. CRM_BRIDGE_CALLER_NUMBER). */
  variables?: Record<string, string>;
  app?: string;
  context?: string;
  exten?: string;
}

export interface FakeAsterisk {
  /** `http://127.0.0.1:<port>`: what ARI_URL / ari-client.connect() take. */
  readonly url: string;
  readonly port: number;
  readonly username: string;
  readonly password: string;
  readonly app: string;
  /** A call enters `Stasis(app, ...args)`; returns its channel id. Throws if no WebSocket is attached for the app (Asterisk's Stasis() fails then). */
  placeCall(options: PlaceCallOptions): string;
  /** The caller types digits, one ChannelDtmfReceived each, `gapMs` apart (default 0). */
  sendDtmf(channelId: string, digits: string, options?: { gapMs?: number; durationMs?: number }): Promise<void>;
  /** The caller hangs up (ChannelHangupRequest cause 16 → PlaybackFinished failed → StasisEnd). */
  hangup(channelId: string): void;
  /**
   * Cuts the app's WebSocket(s) like a network drop; channels stay in the app (trace 03).
   * `downMs`: the network stays down that long (new WebSocket connections are reset), so events of the gap are surely lost.
   */
  dropWebSocket(app?: string, opts?: { downMs?: number }): Promise<void>;
  /** Asterisk restarts: sockets closed, port refused for `downMs`, all calls and apps gone. */
  restart(options?: { downMs?: number }): Promise<void>;
  readonly commands: readonly RecordedCommand[];
  readonly events: readonly RecordedEvent[];
  /** Resolves with the first truthy value of `check`, re-evaluated on every command, event and state change. */
  waitFor<T>(check: () => T | undefined | null | false, timeoutMs?: number, what?: string): Promise<T>;
  waitForEvent(type: AriEventType, filter?: (e: RecordedEvent) => boolean, timeoutMs?: number): Promise<RecordedEvent>;
  waitForCommand(filter: (c: RecordedCommand) => boolean, timeoutMs?: number): Promise<RecordedCommand>;
  /** Resolves once a WebSocket is attached for the app (default: options.app). */
  waitForApp(app?: string, timeoutMs?: number): Promise<void>;
  waitForChannelState<S extends ChannelPhase["state"]>(channelId: string, state: S, timeoutMs?: number): Promise<Extract<ChannelPhase, { state: S }>>;
  isConnected(app?: string): boolean;
  channelVars(channelId: string): Record<string, string>;
  channelState(channelId: string): ChannelPhase;
  /** Channel ids in Stasis for the app right now. */
  channelsInApp(app?: string): string[];
  clearRecords(): void;
  /**
   * Fault injection for tests, not Asterisk behaviour: while set, a REST request for which `handler`
   * returns a reply is answered with it and not carried out (e.g. a refused move). `null` clears it.
   */
  override(handler: RestOverride | null): void;
  close(): Promise<void>;
}

export type RestOverride = (req: { method: string; path: string; query: Query }) => { status: number; body?: unknown } | undefined;

const REALM = "Asterisk REST Interface";

function credentials(req: IncomingMessage, url: URL): { user: string; pass: string } | undefined {
  const header = req.headers.authorization;
  if (header?.startsWith("Basic ")) {
    const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
    const i = decoded.indexOf(":");
    if (i >= 0) return { user: decoded.slice(0, i), pass: decoded.slice(i + 1) };
  }
  const key = url.searchParams.get("api_key");
  if (key !== null) {
    const i = key.indexOf(":");
    if (i >= 0) return { user: key.slice(0, i), pass: key.slice(i + 1) };
  }
  return undefined;
}

function queryOf(url: URL): Query {
  const q: Query = {};
  for (const key of new Set(url.searchParams.keys())) {
    const all = url.searchParams.getAll(key);
    // Never keep a password in the recording.
    if (key === "api_key") q[key] = all.map((v) => v.replace(/:.*/, ":***"))[0];
    else q[key] = all.length === 1 ? all[0] : all;
  }
  return q;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function rejectUpgrade(socket: Socket, status: number, text: string, body: string, headers: Record<string, string> = {}): void {
  const lines = [`HTTP/1.1 ${status} ${text}`, "Connection: close", `Content-Length: ${Buffer.byteLength(body)}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  socket.end(`${lines.join("\r\n")}\r\n\r\n${body}`);
}

export async function startFakeAsterisk(options: FakeAsteriskOptions = {}): Promise<FakeAsterisk> {
  const username = options.username ?? "crm-bridge";
  const password = options.password ?? "crm-bridge";
  const defaultApp = options.app ?? "crm-bridge";
  const host = options.host ?? "127.0.0.1";
  const record = options.record ?? true;
  const commands: RecordedCommand[] = [];
  const events: RecordedEvent[] = [];
  const changes = new EventEmitter();
  changes.setMaxListeners(0);
  const records = new EventEmitter();
  records.setMaxListeners(0);
  const sockets = new Map<string, WebSocket>();
  const dtmfTimers = new Set<ReturnType<typeof setTimeout>>();
  let seq = 0;
  let lastEventSeq = 0;
  let restOverride: RestOverride | null = null;
  let wsDownUntil = 0;

  const changed = (): void => void changes.emit("change");

  const emit = (app: string, event: AriEvent): void => {
    const ws = sockets.get(app);
    const delivered = ws?.readyState === WebSocket.OPEN;
    if (delivered) ws.send(JSON.stringify(event));
    lastEventSeq = ++seq;
    const rec: RecordedEvent = { seq: lastEventSeq, time: new Date().toISOString(), app, event, delivered };
    if (record) events.push(rec);
    options.onEvent?.(rec);
    records.emit(`event:${event.type}`, rec);
    changed();
  };

  const pbx = new Pbx(
    {
      asteriskId: options.asteriskId ?? "02:fc:00:00:00:01",
      language: options.language ?? "en_US_f_Allison",
      playbackMs: options.playbackMs ?? 1000,
      isMissingSound: options.isMissingSound ?? ((m) => m.startsWith("sound:no-such")),
      isMissingContext: options.isMissingContext ?? ((c) => c.startsWith("no-such")),
      channelVarsetEvents: options.channelVarsetEvents ?? true,
      channelDestroyedEvents: options.channelDestroyedEvents ?? false,
      missingSoundFailMs: 2,
    },
    emit,
    changed,
  );

  const send = (res: ServerResponse, reply: RestReply): void => {
    const headers: Record<string, string> = { Server: "Asterisk/22.10.1 (fake)", ...reply.headers };
    if (reply.body === undefined) {
      res.writeHead(reply.status, headers).end();
    } else {
      const text = JSON.stringify(reply.body);
      res.writeHead(reply.status, { ...headers, "Content-Type": "application/json", "Content-Length": String(Buffer.byteLength(text)) }).end(text);
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? host}`);
    const method = req.method ?? "GET";
    const text = await readBody(req);
    if (!url.pathname.startsWith("/ari/")) {
      send(res, { status: 404, body: { error: "Not found" } });
      return;
    }
    const ariPath = url.pathname.slice(4);
    const isDocs = ariPath.startsWith("/api-docs/");
    let body: unknown;
    if (text !== "") {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    const query = queryOf(url);
    const reply = await route(req, url, method, ariPath, query, body);
    send(res, reply);
    if (!isDocs) {
      const rec: RecordedCommand = { seq: ++seq, time: new Date().toISOString(), method, path: decodeURIComponent(ariPath), query, body, status: reply.status, response: reply.body, lastEventSeqBeforeReply: lastEventSeq };
      if (record) commands.push(rec);
      options.onCommand?.(rec);
      records.emit("command", rec);
    }
    changed();
    // After the reply: what the channel thread does next (StasisEnd after `continue`, PlaybackFinished after a stop).
    if (reply.after) setImmediate(reply.after);
  };

  const route = async (req: IncomingMessage, url: URL, method: string, ariPath: string, query: Query, body: unknown): Promise<RestReply> => {
    const cred = credentials(req, url);
    if (!cred || cred.user !== username || cred.pass !== password) {
      return { status: 401, body: ERRORS.authRequired, headers: { "WWW-Authenticate": `Basic realm="${REALM}"` } };
    }
    if (ariPath.length > 1 && ariPath.endsWith("/")) {
      return { status: 404, body: { message: `ARI URLs do not end with a slash. Try /ari${ariPath.slice(0, -1)}` } };
    }
    // swagger-client resolves every path against this, so it must be the address the client used.
    const basePath = `http://${req.headers.host ?? `${host}:${port}`}/ari`;
    if (ariPath.startsWith("/api-docs/")) {
      if (method !== "GET") return { status: 405, body: { message: "Unsupported method" } };
      const name = ariPath.slice("/api-docs/".length).replace(/\.json$/, "");
      if (name === "resources") return { status: 200, body: resourceListing(basePath) };
      if ((RESOURCES as string[]).includes(name)) return { status: 200, body: apiDeclaration(name as ResourceName, basePath) };
      return { status: 404, body: ERRORS.resourceNotFound };
    }
    const match = matchOperation(method, ariPath);
    if (match === undefined) return { status: 404, body: ERRORS.resourceNotFound };
    if (match === "method") return { status: 405, body: ERRORS.invalidMethod };
    // ARI takes every parameter from the query string or, equally, from a JSON object body.
    const merged: Query = { ...query };
    if (body && typeof body === "object" && !Array.isArray(body)) {
      for (const [k, v] of Object.entries(body)) {
        if (merged[k] === undefined && v !== null && v !== undefined) merged[k] = Array.isArray(v) ? v.map(String) : String(v);
      }
    }
    const forced = restOverride?.({ method, path: decodeURIComponent(ariPath), query: merged });
    if (forced) return forced;
    return pbx.handle(match.op, match.params, merged);
  };

  const wss = new WebSocketServer({ noServer: true });
  const allSockets = new Set<WebSocket>();

  const attach = (ws: WebSocket, apps: string[]): void => {
    allSockets.add(ws);
    for (const app of apps) {
      const old = sockets.get(app);
      if (old && old !== ws) {
        // res_stasis: a second registration of the same app replaces the first.
        if (old.readyState === WebSocket.OPEN) old.send(JSON.stringify({ type: "ApplicationReplaced", timestamp: ariTimestamp(), application: app, asterisk_id: options.asteriskId ?? "02:fc:00:00:00:01" }));
      }
      sockets.set(app, ws);
      pbx.setAppActive(app, true);
    }
    ws.on("close", () => {
      allSockets.delete(ws);
      for (const app of apps) {
        if (sockets.get(app) === ws) {
          sockets.delete(app);
          pbx.setAppActive(app, false);
        }
      }
    });
    // Asterisk ignores what the app sends on the events socket (REST over WebSocket is out of scope here).
    ws.on("message", () => undefined);
    ws.on("error", () => undefined);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, { status: 500, body: { message: e instanceof Error ? e.message : String(e) } });
    });
  });
  server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
    if (Date.now() < wsDownUntil) return void socket.destroy();
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? host}`);
    if (url.pathname !== "/ari/events") {
      rejectUpgrade(socket, 404, "Not Found", JSON.stringify(ERRORS.resourceNotFound), { "Content-Type": "application/json" });
      return;
    }
    const cred = credentials(req, url);
    if (!cred || cred.user !== username || cred.pass !== password) {
      rejectUpgrade(socket, 401, "Unauthorized", JSON.stringify(ERRORS.authRequired), { "Content-Type": "application/json", "WWW-Authenticate": `Basic realm="${REALM}"` });
      return;
    }
    const apps = (url.searchParams.get("app") ?? "").split(",").filter(Boolean);
    if (apps.length === 0) {
      rejectUpgrade(socket, 400, "Bad Request", "HTTP request is missing param: [app]");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      attach(ws, apps);
    });
  });

  const openSockets = new Set<Socket>();
  server.on("connection", (s: Socket) => {
    openSockets.add(s);
    s.on("close", () => openSockets.delete(s));
  });

  const listen = (p: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(p, host, () => {
        server.off("error", reject);
        resolve((server.address() as AddressInfo).port);
      });
    });

  const shutdownSockets = async (): Promise<void> => {
    for (const ws of allSockets) ws.terminate();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of openSockets) s.destroy();
    await closed;
  };

  let port = await listen(options.port ?? 0);

  // Every waiter settles once: on its event, or after timeoutMs with the last few events,
  // which say what the fake saw instead. Either way it unsubscribes.
  const waitUntil = <T>(
    timeoutMs: number,
    what: string,
    already: () => T | undefined | null | false,
    subscribe: (settle: (v: T) => void, fail: (e: Error) => void) => () => void,
  ): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const now = already();
      if (now) {
        resolve(now);
        return;
      }
      const timer = setTimeout(() => {
        unsubscribe();
        const recent = events.slice(-8).map((e) => e.event.type).join(", ");
        reject(new Error(`fake Asterisk: timed out after ${timeoutMs} ms waiting for ${what} (last events: ${recent || "none"})`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        unsubscribe();
      };
      const unsubscribe = subscribe(
        (v) => {
          done();
          resolve(v);
        },
        (e) => {
          done();
          reject(e);
        },
      );
    });

  const waitFor = <T>(check: () => T | undefined | null | false, timeoutMs = 5000, what = "condition"): Promise<T> =>
    waitUntil(timeoutMs, what, check, (settle, fail) => {
      const onChange = (): void => {
        let v: T | undefined | null | false;
        try {
          v = check();
        } catch (e) {
          fail(e instanceof Error ? e : new Error(String(e)));
          return;
        }
        if (v) settle(v);
      };
      changes.on("change", onChange);
      return () => changes.off("change", onChange);
    });

  // Looks at each new record once (not the whole log on every change): hundreds
  // of concurrent calls each waiting on their own event stay linear.
  const waitForRecord = <R>(kind: `event:${AriEventType}` | "command", log: readonly R[], match: (r: R) => boolean, timeoutMs = 5000, what: string = kind): Promise<R> =>
    waitUntil(
      timeoutMs,
      what,
      () => log.find(match),
      (settle) => {
        const onRecord = (r: R): void => {
          if (match(r)) settle(r);
        };
        records.on(kind, onRecord);
        return () => records.off(kind, onRecord);
      },
    );

  const fake: FakeAsterisk = {
    get url() {
      return `http://${host}:${port}`;
    },
    get port() {
      return port;
    },
    username,
    password,
    app: defaultApp,
    placeCall: (o) =>
      pbx.placeCall({
        args: o.args,
        app: o.app ?? defaultApp,
        ...(o.callerNumber !== undefined ? { callerNumber: o.callerNumber } : {}),
        ...(o.callerName !== undefined ? { callerName: o.callerName } : {}),
        ...(o.callerPresentation !== undefined ? { callerPresentation: o.callerPresentation } : {}),
        ...(o.variables !== undefined ? { variables: o.variables } : {}),
        ...(o.context !== undefined ? { context: o.context } : {}),
        ...(o.exten !== undefined ? { exten: o.exten } : {}),
      }),
    sendDtmf: async (channelId, digits, o = {}) => {
      const gap = o.gapMs ?? 0;
      const duration = o.durationMs ?? 100;
      const list = [...digits];
      if (list.some((d) => !/^[0-9*#A-D]$/.test(d))) throw new Error(`not DTMF: ${digits}`);
      for (const [i, d] of list.entries()) {
        if (i > 0 && gap > 0) {
          await new Promise<void>((r) => {
            const t = setTimeout(() => {
              dtmfTimers.delete(t);
              r();
            }, gap);
            dtmfTimers.add(t);
          });
        }
        // A caller who hung up mid-sequence simply stops typing.
        if (pbx.phase(channelId)?.state === "hungup" && i > 0) return;
        pbx.sendDtmf(channelId, d, duration);
      }
    },
    hangup: (channelId) => {
      if (!pbx.callerHangup(channelId)) throw new Error(`channel ${channelId} does not exist`);
    },
    dropWebSocket: async (app, o = {}) => {
      wsDownUntil = Date.now() + (o.downMs ?? 0);
      const targets = [...sockets.entries()].filter(([a]) => app === undefined || a === app);
      const closing = targets.map(([a, ws]) => {
        // Detach now so nothing placed after this call can reach the old socket.
        sockets.delete(a);
        pbx.setAppActive(a, false);
        return new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) resolve();
          else ws.once("close", () => resolve());
          ws.terminate();
        });
      });
      await Promise.all(closing);
    },
    restart: async (o = {}) => {
      for (const t of dtmfTimers) clearTimeout(t);
      dtmfTimers.clear();
      sockets.clear();
      await shutdownSockets();
      pbx.reset();
      await new Promise((r) => setTimeout(r, o.downMs ?? 200));
      port = await listen(port);
      changed();
    },
    get commands() {
      return commands;
    },
    get events() {
      return events;
    },
    waitFor,
    waitForEvent: (type, filter, timeoutMs) =>
      waitForRecord<RecordedEvent>(`event:${type}`, events, (e) => e.event.type === type && (!filter || filter(e)), timeoutMs, `event ${type}`),
    waitForCommand: (filter, timeoutMs) => waitForRecord<RecordedCommand>("command", commands, filter, timeoutMs, "command"),
    waitForApp: async (app, timeoutMs) => {
      await waitFor(() => pbx.isAppActive(app ?? defaultApp), timeoutMs, `a WebSocket for app ${app ?? defaultApp}`);
    },
    waitForChannelState: (channelId, state, timeoutMs) =>
      waitFor(() => {
        const p = pbx.phase(channelId);
        return p?.state === state ? (p as Extract<ChannelPhase, { state: typeof state }>) : undefined;
      }, timeoutMs, `channel ${channelId} to be ${state}`),
    isConnected: (app) => pbx.isAppActive(app ?? defaultApp),
    channelVars: (channelId) => pbx.vars(channelId),
    channelState: (channelId) => {
      const p = pbx.phase(channelId);
      if (!p) throw new Error(`unknown channel ${channelId}`);
      return p;
    },
    channelsInApp: (app) => pbx.channelIdsInApp(app ?? defaultApp),
    override: (handler) => {
      restOverride = handler;
    },
    clearRecords: () => {
      commands.length = 0;
      events.length = 0;
    },
    close: async () => {
      for (const t of dtmfTimers) clearTimeout(t);
      dtmfTimers.clear();
      sockets.clear();
      await shutdownSockets();
      pbx.reset();
      wss.close();
    },
  };
  return fake;
}
