import type { Logger } from "pino";
import type { AgentMetrics } from "../observability/metrics.js";
import { connectAri, type AriClient, type AriEvent } from "./ari-client.js";

const CONNECT_TIMEOUT_MS = 10_000;

export type AriState = "connecting" | "connected" | "reconnecting" | "stopped";

export type AriConnectionOptions = {
  url: string;
  username: string;
  password: string;
  app: string;
  /** Cap of the exponential backoff between our own connection attempts. */
  reconnectMaxMs: number;
  baseDelayMs?: number;
  log: Logger;
  metrics?: AgentMetrics | null;
  /** Event types dispatched to `onEvent`. */
  events: string[];
  onEvent(ev: AriEvent): void;
  /** Every time the events WebSocket opens: first connect and each reconnect. */
  onConnected(client: AriClient): void;
};

export type AriConnection = {
  client(): AriClient | null;
  state(): AriState;
  stop(): Promise<void>;
};

function describe(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (err && typeof err === "object" && "message" in err) return String((err as { message: unknown }).message);
  return String(err);
}

/**
 * Keeps the agent connected to ARI for as long as it runs. ari-client reconnects a dropped
 * WebSocket by itself (10 tries, up to 10 s apart); when it gives up, or Asterisk cannot be
 * reached at all, this loop starts over with a capped exponential backoff. Never throws,
 * never exits: one log line per attempt.
 */
export function startAriConnection(o: AriConnectionOptions): AriConnection {
  let current: AriClient | null = null;
  let state: AriState = "connecting";
  let stopped = false;
  let wake: (() => void) | null = null;
  const base = o.baseDelayMs ?? 500;
  const setState = (s: AriState) => {
    state = s;
    o.metrics?.ariConnected.set(s === "connected" ? 1 : 0);
  };

  const sleep = (ms: number) =>
    new Promise<void>((r) => {
      const t = setTimeout(() => {
        wake = null;
        r();
      }, ms);
      wake = () => {
        clearTimeout(t);
        wake = null;
        r();
      };
    });

  /**
   * ari-client answers a refused password both by rejecting connect() and by throwing an uncaught
   * exception from inside swagger-client, which would kill the process. Asking for the resource
   * listing ourselves first turns a 401 (trace 04) into an ordinary, retried failure.
   */
  async function preflight(url: string, username: string, password: string): Promise<void> {
    const res = await fetch(`${url.replace(/\/+$/, "")}/ari/api-docs/resources.json`, {
      headers: { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}` },
      signal: AbortSignal.timeout(CONNECT_TIMEOUT_MS),
    });
    await res.body?.cancel();
    if (res.status === 401) throw new Error("401 : authentication refused");
  }

  async function runOnce(attempt: number): Promise<boolean> {
    o.metrics?.ariReconnects.inc();
    o.log.info({ attempt, url: o.url, app: o.app }, "ari connecting");
    await preflight(o.url, o.username, o.password);
    // ari-client sets no timeout on loading the API declarations: a host that drops packets would stall the loop.
    let timer: NodeJS.Timeout | undefined;
    const client = await Promise.race([
      connectAri(o.url, o.username, o.password, (notice) => o.log.debug({ notice }, "ari-client notice")),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error("timed out loading the ARI API")), CONNECT_TIMEOUT_MS))),
    ]).finally(() => clearTimeout(timer));
    if (stopped) return false;
    let opened = false;
    let release!: () => void;
    const gaveUp = new Promise<void>((resolve) => {
      release = resolve;
      client.on("WebSocketMaxRetries", (err: unknown) => {
        o.log.warn({ err: err ? describe(err) : undefined }, "ari websocket: ari-client gave up reconnecting; starting over");
        resolve();
      });
    });
    stopWaiters.add(release);
    client.on("WebSocketConnected", () => {
      if (stopped) return void safeStop(client);
      opened = true;
      current = client;
      setState("connected");
      o.log.info({ url: o.url, app: o.app }, "ari connected");
      o.onConnected(client);
    });
    client.on("WebSocketReconnecting", (err: unknown) => {
      if (stopped) return;
      setState("reconnecting");
      o.metrics?.ariReconnects.inc();
      o.log.warn({ err: err ? describe(err) : "closed" }, "ari websocket lost; reconnecting");
    });
    for (const type of o.events) client.on(type, (ev: AriEvent) => o.onEvent(ev));
    current = client;
    try {
      await Promise.race([Promise.resolve(client.start(o.app)).then(() => gaveUp), gaveUp]);
    } finally {
      stopWaiters.delete(release);
      current = null;
      safeStop(client);
      client.removeAllListeners();
    }
    return opened;
  }

  const stopWaiters = new Set<() => void>();
  function safeStop(c: AriClient) {
    try {
      c.stop();
    } catch {
      // stop() on a socket that never opened throws inside ws; nothing left to close.
    }
  }

  const loop = (async () => {
    let attempt = 0;
    while (!stopped) {
      attempt++;
      try {
        if (await runOnce(attempt)) attempt = 0;
      } catch (err) {
        if (stopped) break;
        const delay = Math.min(o.reconnectMaxMs, base * 2 ** Math.min(attempt - 1, 20));
        setState(attempt === 1 && state === "connecting" ? "connecting" : "reconnecting");
        const detail = describe(err);
        // Trace 04: a wrong password is a 401 on the first request (ari-client reports "401 : …").
        const code = /^401\b/.test(detail) ? "ari_auth_failed" : "ari_unreachable";
        const hint = code === "ari_auth_failed" ? "ari connect failed: authentication refused (check ARI_USERNAME / ARI_PASSWORD and ari.conf)" : "ari connect failed";
        o.log.warn({ attempt, url: o.url, code, err: detail, retryInMs: delay }, hint);
        await sleep(delay);
        continue;
      }
      if (!stopped) {
        setState("reconnecting");
        await sleep(Math.min(o.reconnectMaxMs, base));
      }
    }
  })();

  return {
    client: () => current,
    state: () => state,
    async stop() {
      stopped = true;
      setState("stopped");
      wake?.();
      for (const w of stopWaiters) w();
      if (current) safeStop(current);
      await loop;
    },
  };
}
