// `npm run fake-asterisk`: the fake Asterisk as a process, plus the control API
// to drive calls by hand. See README.md in this folder.

import { startControlServer } from "./control.js";
import { startFakeAsterisk } from "./server.js";

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    console.error(`${name} must be an integer 0-65535, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return n;
}

const host = process.env.FAKE_ARI_HOST ?? "127.0.0.1";
const port = intFromEnv("FAKE_ARI_PORT", 8088);
const controlPort = intFromEnv("FAKE_ARI_CONTROL_PORT", port === 0 ? 0 : port + 1);
const playbackMs = intFromEnv("FAKE_ARI_PLAYBACK_MS", 3000);

const short = (v: unknown): string => {
  const s = JSON.stringify(v);
  return s.length > 160 ? `${s.slice(0, 157)}...` : s;
};

const fake = await startFakeAsterisk({
  host,
  port,
  username: process.env.FAKE_ARI_USERNAME ?? "crm-bridge",
  password: process.env.FAKE_ARI_PASSWORD ?? "crm-bridge",
  app: process.env.FAKE_ARI_APP ?? "crm-bridge",
  playbackMs,
  record: true,
  onCommand: (c) => {
    const q = new URLSearchParams(Object.entries(c.query).flatMap(([k, v]): [string, string][] => (Array.isArray(v) ? v.map((x) => [k, x]) : v === undefined ? [] : [[k, v]])));
    const qs = q.toString() ? `?${decodeURIComponent(q.toString())}` : "";
    console.log(`${c.time} REST  ${c.method} ${c.path}${qs} -> ${c.status}${c.response === undefined ? "" : ` ${short(c.response)}`}`);
  },
  onEvent: (e) => {
    const { type, timestamp: _t, asterisk_id: _a, application: _app, ...rest } = e.event as unknown as Record<string, unknown>;
    const channel = rest.channel as { id: string; state: string } | undefined;
    const detail = channel ? { ...rest, channel: `${channel.id} (${channel.state})` } : rest;
    console.log(`${e.time} EVENT ${String(type)}${e.delivered ? "" : " (not delivered: no WebSocket)"} ${short(detail)}`);
  },
});
const control = await startControlServer(fake, controlPort, host);

console.log(`fake Asterisk ARI on ${fake.url}/ari (user ${fake.username}, app ${fake.app}, prompts last ${playbackMs} ms)`);
console.log(`control API on ${control.url}: POST /calls {"tenant","node"} | POST /calls/:id/dtmf {"digits"} | POST /calls/:id/hangup | GET /calls/:id | GET /commands | GET /events`);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  void Promise.all([control.close(), fake.close()]).then(() => process.exit(0));
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
