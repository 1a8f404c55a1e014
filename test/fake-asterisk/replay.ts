// Replays a recorded trace against the fake: the caller's actions (a call
// arriving, digits, hanging up, the WebSocket dropping) are performed on the
// fake, the application's REST calls are made by an AppDriver (raw HTTP
// exactly as recorded, or ari-client's operations), and the fake's own record
// of what it sent and answered, in the order it did so, is written down in the
// trace format.

import { createRequire } from "node:module";
import type { EventEmitter } from "node:events";
import { WebSocket } from "ws";
import type { FakeAsterisk } from "./server.js";
import { matchOperation } from "./swagger.js";
import type { RestLine, Transcript } from "./transcript.js";

const CHANNEL_ID = /\b\d{9,}\.\d+\b/g;

/** Quiet period that ends a step: every consequence of an action in the fake lands within a few ms. */
const SETTLE_MS = 25;

/** The application side of a replay. */
export interface AppDriver {
  connect(fake: FakeAsterisk): Promise<void>;
  /** The trace says the app's WebSocket is open again. */
  reconnect(fake: FakeAsterisk): Promise<void>;
  /** Make the recorded REST call; `path` has the fake's ids. The answer is read from the fake's record. */
  rest(fake: FakeAsterisk, line: RestLine, path: string): Promise<void>;
  close(): void;
}

/** Raw HTTP with the recorded path and query, raw WebSocket: the trace's requests byte for byte. */
export function rawDriver(): AppDriver {
  let ws: WebSocket | undefined;
  const open = async (fake: FakeAsterisk): Promise<void> => {
    const url = `${fake.url.replace(/^http/, "ws")}/ari/events?app=${encodeURIComponent(fake.app)}&api_key=${encodeURIComponent(`${fake.username}:${fake.password}`)}`;
    const socket = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
    });
    ws = socket;
    await fake.waitForApp();
  };
  return {
    connect: open,
    reconnect: open,
    rest: async (fake, line, path) => {
      // The trace's 401 is the application using a wrong password.
      const pass = line.status === 401 ? "wrong-password" : fake.password;
      const res = await fetch(`${fake.url}/ari${path}`, {
        method: line.method,
        headers: { Authorization: `Basic ${Buffer.from(`${fake.username}:${pass}`).toString("base64")}` },
      });
      await res.text();
    },
    close: () => ws?.close(),
  };
}

interface AriClientLike extends EventEmitter {
  start(app: string): Promise<void>;
  stop(): void;
}
type AriOperation = (args: Record<string, string>) => Promise<unknown>;

/**
 * ari-client 2.2 as the application: each recorded REST call becomes the
 * ari-client operation with the same nickname, so the requests are whatever
 * ari-client builds from our Swagger declarations. Needs a trace without a
 * wrong-password call (ari-client authenticates once, process-wide).
 */
export function ariClientDriver(): AppDriver {
  let client: AriClientLike | undefined;
  // ari-client is CommonJS without types; `connect` is all we need from the module.
  const ari = createRequire(import.meta.url)("ari-client") as { connect(url: string, u: string, p: string): Promise<AriClientLike> };
  return {
    connect: async (fake) => {
      client = await ari.connect(fake.url, fake.username, fake.password);
      await client.start(fake.app);
      await fake.waitForApp();
    },
    // ari-client reconnects by itself after a drop (100 ms backoff).
    reconnect: (fake) => fake.waitForApp(undefined, 5000),
    rest: async (_fake, line, path) => {
      const url = new URL(path, "http://x");
      const match = matchOperation(line.method, url.pathname);
      if (!match || match === "method") throw new Error(`no ARI operation for ${line.method} ${url.pathname}`);
      const api = (client as unknown as Record<string, Record<string, AriOperation>>)[match.op.resource];
      const op = api?.[match.op.nickname];
      if (!op) throw new Error(`ari-client has no ${match.op.resource}.${match.op.nickname}`);
      await op({ ...match.params, ...Object.fromEntries(url.searchParams) }).catch(() => undefined);
    },
    close: () => client?.stop(),
  };
}

export async function replayOnFake(trace: Transcript, fake: FakeAsterisk, driver: AppDriver = rawDriver()): Promise<Transcript> {
  const ids = new Map<string, string>();
  const notes: { afterSeq: number; text: string }[] = [];
  const lastSeq = (): number => Math.max(0, ...fake.events.map((e) => e.seq), ...fake.commands.map((c) => c.seq));
  const activity = (): number => fake.events.length + fake.commands.length;
  const mapIds = (s: string): string => s.replace(CHANNEL_ID, (id) => ids.get(id) ?? id);

  const settle = async (): Promise<void> => {
    let before: number;
    do {
      before = activity();
      await new Promise((r) => setTimeout(r, SETTLE_MS));
    } while (activity() !== before);
  };

  await driver.connect(fake);
  try {
    for (const line of trace) {
      if (line.dir === "note") {
        if (/closed/.test(line.text)) await fake.dropWebSocket();
        else if (/reopened/.test(line.text)) await driver.reconnect(fake);
        notes.push({ afterSeq: lastSeq(), text: line.text });
        continue;
      }
      if (line.dir === "event") {
        const e = line.event;
        const channel = e.channel as { id: string } | undefined;
        if (e.type === "StasisStart" && channel) {
          const id = fake.placeCall({ args: e.args as string[] });
          ids.set(channel.id, id);
          // The caller's `;1` half was created just before (trace 03 lists it).
          const [stem, n] = channel.id.split(".");
          const [fStem, fn] = id.split(".");
          ids.set(`${stem}.${Number(n) - 1}`, `${fStem}.${Number(fn) - 1}`);
        } else if (e.type === "ChannelDtmfReceived" && channel) {
          await fake.sendDtmf(ids.get(channel.id) ?? channel.id, e.digit as string, { durationMs: e.duration_ms as number });
        } else if (e.type === "ChannelHangupRequest" && channel && e.soft === undefined) {
          fake.hangup(ids.get(channel.id) ?? channel.id);
        } else {
          continue; // a consequence of an earlier action: it must arrive by itself
        }
        await settle();
        continue;
      }
      await driver.rest(fake, line, mapIds(line.path));
      await settle();
    }
    await settle();
  } finally {
    driver.close();
  }
  return transcriptOf(fake, notes);
}

/** The fake's record as a trace: delivered events and answered commands in the order the fake produced them. */
export function transcriptOf(fake: FakeAsterisk, notes: { afterSeq: number; text: string }[] = []): Transcript {
  const lines: { seq: number; line: Transcript[number] }[] = [
    ...fake.events.filter((e) => e.delivered).map((e) => ({ seq: e.seq, line: { dir: "event" as const, app: e.app, event: e.event as unknown as Record<string, unknown> } })),
    ...fake.commands.map((c) => {
      const query = Object.entries(c.query)
        .flatMap(([k, v]) => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).map((x) => `${k}=${x}`)))
        .join("&");
      return { seq: c.seq, line: { dir: "rest" as const, app: fake.app, method: c.method, path: query ? `${c.path}?${query}` : c.path, status: c.status, body: c.response ?? "" } };
    }),
    ...notes.map((n) => ({ seq: n.afterSeq + 0.5, line: { dir: "note" as const, text: n.text } })),
  ];
  return lines.sort((a, b) => a.seq - b.seq).map((l) => l.line);
}
