import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** One registry per agent, so several agents in one test process never share counters. */
export class AgentMetrics {
  readonly registry = new Registry();
  readonly calls = new Counter({ name: "crm_bridge_agent_calls_total", help: "Calls finished, by outcome", labelNames: ["outcome"] as const, registers: [this.registry] });
  readonly edgeLatency = new Histogram({
    name: "crm_bridge_agent_edge_request_seconds",
    help: "Edge (or CRM url) request time, by request kind and result",
    labelNames: ["kind", "result"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
    registers: [this.registry],
  });
  readonly edgeTimeouts = new Counter({ name: "crm_bridge_agent_edge_timeouts_total", help: "Edge requests cut at EDGE_TIMEOUT_MS", registers: [this.registry] });
  readonly ariConnected = new Gauge({ name: "crm_bridge_agent_ari_connected", help: "1 while the ARI events WebSocket is open", registers: [this.registry] });
  readonly ariReconnects = new Counter({ name: "crm_bridge_agent_ari_connect_attempts_total", help: "ARI connection attempts", registers: [this.registry] });
  readonly activeCalls = new Gauge({ name: "crm_bridge_agent_active_calls", help: "Calls in the Stasis app being handled", registers: [this.registry] });

  constructor() {
    this.ariConnected.set(0);
    for (const o of ["success", "failure", "crm", "timeout", "invalid", "abandoned"]) this.calls.inc({ outcome: o }, 0);
  }
}

export type MetricsServer = { port: number; close(): Promise<void> };

/** `/metrics` (Prometheus text) and `/healthz` (200 while ARI is connected, else 503). */
export async function startMetricsServer(metrics: AgentMetrics, port: number, host: string, health: () => { ok: boolean; ari: string; calls: number }): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/metrics") {
      metrics.registry.metrics().then(
        (text) => {
          res.writeHead(200, { "content-type": metrics.registry.contentType });
          res.end(text);
        },
        () => {
          res.writeHead(500);
          res.end();
        },
      );
      return;
    }
    if (path === "/healthz") {
      const h = health();
      res.writeHead(h.ok ? 200 : 503, { "content-type": "application/json" });
      res.end(JSON.stringify(h));
      return;
    }
    res.writeHead(404, { "content-type": "application/json" });
    res.end('{"error":{"code":"not_found","message":"try /metrics or /healthz"}}');
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
