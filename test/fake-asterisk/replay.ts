// Replays a recorded trace against the fake: the caller's actions (a call
// arriving, digits, hanging up, the WebSocket dropping) are performed on the
// fake, the application's REST calls are sent as raw HTTP exactly as recorded
// (ids mapped), and the fake's own record of what it sent and answered, in
// the order it did so, is written down in the trace format.

import { WebSocket } from "ws";
import type { FakeAsterisk } from "./server.js";
import type { Transcript } from "./transcript.js";

const CHANNEL_ID = /\b\d{9,}\.\d+\b/g;

/** Quiet period that ends a step: every consequence of an action in the fake lands within a few ms. */
const SETTLE_MS = 25;

export async function replayOnFake(trace: Transcript, fake: FakeAsterisk): Promise<Transcript> {
  const ids = new Map<string, string>();
  const sentPaths: string[] = [];
  const notes: { afterSeq: number; text: string }[] = [];
  let ws: WebSocket | undefined;
  const lastSeq = (): number => Math.max(0, ...fake.events.map((e) => e.seq), ...fake.commands.map((c) => c.seq));
  const activity = (): number => fake.events.length + fake.commands.length;

  const mapIds = (s: string): string => s.replace(CHANNEL_ID, (id) => ids.get(id) ?? id);
  const wsUrl = `${fake.url.replace(/^http/, "ws")}/ari/events?app=${encodeURIComponent(fake.app)}&api_key=${encodeURIComponent(`${fake.username}:${fake.password}`)}`;

  const openSocket = async (): Promise<void> => {
    const socket = new WebSocket(wsUrl);
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
    });
    ws = socket;
    await fake.waitForApp();
  };

  const settle = async (): Promise<void> => {
    let before: number;
    do {
      before = activity();
      await new Promise((r) => setTimeout(r, SETTLE_MS));
    } while (activity() !== before);
  };

  await openSocket();
  for (const line of trace) {
    if (line.dir === "note") {
      if (/closed/.test(line.text)) {
        const closed = new Promise<void>((resolve) => ws?.once("close", () => resolve()));
        await fake.dropWebSocket();
        await closed;
      } else if (/reopened/.test(line.text)) {
        await openSocket();
      }
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
    const path = mapIds(line.path);
    // The trace's 401 is the application using a wrong password.
    const pass = line.status === 401 ? "wrong-password" : fake.password;
    const res = await fetch(`${fake.url}/ari${path}`, {
      method: line.method,
      headers: { Authorization: `Basic ${Buffer.from(`${fake.username}:${pass}`).toString("base64")}` },
    });
    await res.text();
    sentPaths.push(path);
    await settle();
  }
  await settle();
  ws?.close();

  const lines: { seq: number; line: Transcript[number] }[] = [
    ...fake.events.filter((e) => e.delivered).map((e) => ({ seq: e.seq, line: { dir: "event" as const, app: e.app, event: e.event as unknown as Record<string, unknown> } })),
    ...fake.commands.map((c, i) => ({
      seq: c.seq,
      line: { dir: "rest" as const, app: fake.app, method: c.method, path: sentPaths[i] ?? c.path, status: c.status, body: c.response ?? "" },
    })),
    ...notes.map((n) => ({ seq: n.afterSeq + 0.5, line: { dir: "note" as const, text: n.text } })),
  ];
  return lines.sort((a, b) => a.seq - b.seq).map((l) => l.line);
}
