// A bare ARI application for tests: raw HTTP and a raw events WebSocket, so
// the fake's answers are seen exactly as sent (ari-client would reshape them).

import { WebSocket } from "ws";
import type { AriEvent, AriEventType } from "./ari-json.js";
import type { FakeAsterisk } from "./server.js";

export interface RawReply {
  status: number;
  body: unknown;
  headers: Headers;
}

export interface RawAriApp {
  events: AriEvent[];
  rest(method: string, path: string, query?: Record<string, string | number>, jsonBody?: unknown): Promise<RawReply>;
  /** Resolves with the next event of `type` not already returned by nextEvent (scans past events first). */
  nextEvent<T extends AriEventType>(type: T, filter?: (e: Extract<AriEvent, { type: T }>) => boolean, timeoutMs?: number): Promise<Extract<AriEvent, { type: T }>>;
  close(): void;
}

export async function connectRawApp(fake: FakeAsterisk, app = fake.app): Promise<RawAriApp> {
  const events: AriEvent[] = [];
  const consumed = new Set<AriEvent>();
  const listeners = new Set<() => void>();
  const auth = `Basic ${Buffer.from(`${fake.username}:${fake.password}`).toString("base64")}`;
  const ws = new WebSocket(`${fake.url.replace(/^http/, "ws")}/ari/events?app=${encodeURIComponent(app)}`, { headers: { Authorization: auth } });
  ws.on("message", (data: Buffer) => {
    events.push(JSON.parse(data.toString("utf8")) as AriEvent);
    for (const l of listeners) l();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  await fake.waitForApp(app);
  return {
    events,
    rest: async (method, path, query = {}, jsonBody) => {
      const qs = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])).toString();
      const res = await fetch(`${fake.url}/ari${path}${qs ? `?${qs}` : ""}`, {
        method,
        headers: { Authorization: auth, ...(jsonBody === undefined ? {} : { "Content-Type": "application/json" }) },
        ...(jsonBody === undefined ? {} : { body: JSON.stringify(jsonBody) }),
      });
      const text = await res.text();
      return { status: res.status, body: text === "" ? undefined : (JSON.parse(text) as unknown), headers: res.headers };
    },
    nextEvent: <T extends AriEventType>(type: T, filter?: (e: Extract<AriEvent, { type: T }>) => boolean, timeoutMs = 3000) =>
      new Promise<Extract<AriEvent, { type: T }>>((resolve, reject) => {
        const find = (): boolean => {
          const e = events.find((x): x is Extract<AriEvent, { type: T }> => x.type === type && !consumed.has(x) && (!filter || filter(x as Extract<AriEvent, { type: T }>)));
          if (!e) return false;
          consumed.add(e);
          listeners.delete(check);
          clearTimeout(timer);
          resolve(e);
          return true;
        };
        const check = (): void => void find();
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no ${type} within ${timeoutMs} ms (got ${events.map((e) => e.type).join(", ")})`));
        }, timeoutMs);
        if (!find()) listeners.add(check);
      }),
    close: () => ws.close(),
  };
}
