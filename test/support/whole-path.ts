import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTs, type Proc } from "./processes.js";
import { startEdge, type StartedEdge } from "./start-edge.js";

/**
 * The whole path as separate processes on loopback: fake CRM, the real edge (local workerd),
 * the fake Asterisk and the agent. Shared by the end-to-end suite and the soak run.
 */
export type WholePath = {
  crmUrl: string;
  edge: StartedEdge;
  asterisk: Proc;
  agent: Proc;
  control: string;
  tenant: { id: string; admin: string; agent: string };
  api(method: string, path: string, body?: unknown, token?: string): Promise<Response>;
  /** A call into Stasis(crm-bridge,tenant,node) that types `digits`; resolves with where it landed. */
  call(node: string, digits: string, opts?: CallOptions): Promise<Landed>;
  restartEdge(): Promise<void>;
  close(): Promise<void>;
};

/** `caller`: the fake Asterisk's caller fields (callerNumber, callerName, callerPresentation); `prompt: false` for calls routed without one. */
export type CallOptions = { timeoutMs?: number; gapMs?: number; caller?: Record<string, string>; prompt?: boolean };

export type Landed = { channelId: string; state: string; context?: string; extension?: string; vars: Record<string, string> };

export const DESTINATIONS = {
  types: { "1": { context: "to-campaign", extension: "{id}", priority: 1 } },
  default: { context: "crm-bridge-route", extension: "{type}-{id}", priority: 1 },
  fallback: { context: "crm-bridge-fallback", extension: "s", priority: 1 },
};

export async function startWholePath(opts: { edgeTimeoutMs?: number; playbackMs?: number; agentEnv?: Record<string, string> } = {}): Promise<WholePath> {
  const dir = mkdtempSync(join(tmpdir(), "crm-bridge-e2e-"));
  const crm = startTs("test/support/fake-crm-cli.ts");
  const crmUrl = (await crm.waitFor(/fake CRM on (http:\/\/\S+)/))[1]!;
  const edgeState = join(dir, "edge");
  let edge = await startEdge({ stateDir: edgeState });
  const api = (method: string, path: string, body?: unknown, token = edge.operatorToken) =>
    fetch(`${edge.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) }, body: body === undefined ? null : JSON.stringify(body) });
  const must = async (r: Promise<Response>) => {
    const res = await r;
    if (!res.ok) throw new Error(`setup: HTTP ${res.status} ${await res.text()}`);
    return res;
  };
  await must(api("PUT", "/v1/tenants/acme", { name: "ACME" }));
  const admin = ((await (await must(api("POST", "/v1/tenants/acme/keys", { role: "admin" }))).json()) as { key: string }).key;
  const agentKey = ((await (await must(api("POST", "/v1/tenants/acme/keys", { role: "agent" }))).json()) as { key: string }).key;

  const asterisk = startTs("test/fake-asterisk/cli.ts", { FAKE_ARI_PORT: "0", FAKE_ARI_CONTROL_PORT: "0", FAKE_ARI_PLAYBACK_MS: String(opts.playbackMs ?? 300) });
  const ari = (await asterisk.waitFor(/fake Asterisk ARI on (http:\/\/\S+)\/ari/))[1]!;
  const control = (await asterisk.waitFor(/control API on (http:\/\/[^:]+:\d+)/))[1]!;
  const destinations = join(dir, "destinations.json");
  writeFileSync(destinations, JSON.stringify(DESTINATIONS));
  let edgeUrl = edge.url;
  const startAgentProc = () =>
    startTs("pbx-agent/src/main.ts", {
      ARI_URL: ari,
      ARI_USERNAME: "crm-bridge",
      ARI_PASSWORD: "crm-bridge",
      EDGE_URL: edgeUrl,
      EDGE_KEY: agentKey,
      EDGE_TIMEOUT_MS: String(opts.edgeTimeoutMs ?? 1500),
      DESTINATIONS_FILE: destinations,
      STATE_DIR: join(dir, "agent-state"),
      METRICS_PORT: "0",
      METRICS_HOST: "127.0.0.1",
      NODE_CACHE_TTL_MS: "0",
      LOG_LEVEL: "info",
      ...opts.agentEnv,
    });
  const agent = startAgentProc();
  // The agent is up once the fake Asterisk sees its WebSocket.
  for (let i = 0; ; i++) {
    const s = (await (await fetch(`${control}/status`)).json()) as { connected: boolean };
    if (s.connected) break;
    if (i > 200) throw new Error(`agent never connected:\n${agent.output.slice(-20).join("\n")}`);
    await new Promise((r) => setTimeout(r, 50));
  }

  // One poller reads only the new events (the fake keeps every event of the run), and notes which
  // channels have started their prompt.
  const prompted = new Set<string>();
  let lastSeq = 0;
  let polling = true;
  const poller = (async () => {
    while (polling) {
      try {
        const events = (await (await fetch(`${control}/events?since=${lastSeq}`)).json()) as Array<{ seq: number; event: { type: string; playback?: { target_uri: string } } }>;
        for (const e of events) {
          lastSeq = Math.max(lastSeq, e.seq);
          if (e.event.type === "PlaybackStarted" && e.event.playback) prompted.add(e.event.playback.target_uri.replace(/^channel:/, ""));
        }
      } catch {
        // The fake may be restarting; the next round tries again.
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();

  const call = async (node: string, digits: string, o: CallOptions = {}): Promise<Landed> => {
    const placed = await fetch(`${control}/calls`, { method: "POST", body: JSON.stringify({ tenant: "acme", node, ...o.caller }) });
    if (placed.status !== 201) throw new Error(`place call: ${placed.status} ${await placed.text()}`);
    const { channelId } = (await placed.json()) as { channelId: string };
    // A caller types after hearing the prompt begin.
    for (let i = 0; o.prompt !== false && !prompted.has(channelId); i++) {
      if (i > 500) throw new Error(`no prompt on ${channelId}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    prompted.delete(channelId);
    if (digits) await fetch(`${control}/calls/${channelId}/dtmf`, { method: "POST", body: JSON.stringify({ digits, gapMs: o.gapMs ?? 20 }) });
    const end = Date.now() + (o.timeoutMs ?? 10_000);
    for (;;) {
      const s = (await (await fetch(`${control}/calls/${channelId}`)).json()) as Landed;
      if (s.state !== "inStasis") return { ...s, channelId };
      if (Date.now() > end) throw new Error(`call ${channelId} on ${node} still in Stasis after ${o.timeoutMs ?? 10_000} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  return {
    crmUrl,
    get edge() {
      return edge;
    },
    asterisk,
    agent,
    control,
    tenant: { id: "acme", admin, agent: agentKey },
    api: (m, p, b, t) => api(m, p, b, t ?? admin),
    call,
    async restartEdge() {
      // Same state directory and port, like a redeploy: D1 and KV survive.
      const port = new URL(edge.url).port;
      await edge.close();
      edge = await startEdge({ stateDir: edgeState, port: Number(port) });
      edgeUrl = edge.url;
    },
    async close() {
      polling = false;
      await poller;
      await agent.stop();
      await asterisk.stop();
      await edge.close();
      await crm.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
