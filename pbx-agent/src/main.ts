import { startAgent } from "./agent.js";
import { ConfigError, loadConfig, type AgentConfig } from "./config/env.js";
import { createLogger } from "./observability/log.js";

let config: AgentConfig;
try {
  config = loadConfig(process.env);
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  if (e.missing.length) {
    const width = Math.max(...e.missing.map((m) => m.variables.join(", ").length));
    process.stderr.write(
      [
        "crm-bridge agent: bad configuration: missing settings:",
        ...e.missing.map((m) => `  ${m.variables.join(", ").padEnd(width)}  ${m.what}`),
        "Set them in the environment (or an env file for systemd/Docker); pbx-agent/deploy/agent.env.example lists every setting.",
        "To try it locally, `npm start` runs the edge and the agent with demo settings.",
        "",
      ].join("\n"),
    );
  } else {
    process.stderr.write(`crm-bridge agent: bad configuration: ${e.message}\n`);
  }
  process.exit(2);
}

const log = createLogger(config.logLevel);
let agent: Awaited<ReturnType<typeof startAgent>>;
try {
  agent = await startAgent(config, { logger: log });
} catch (e) {
  const code = (e as NodeJS.ErrnoException).code;
  if (code !== "EADDRINUSE" && code !== "EACCES" && code !== "EADDRNOTAVAIL") throw e;
  process.stderr.write(`crm-bridge agent: bad configuration: METRICS_PORT: cannot listen on ${config.metrics?.host}:${config.metrics?.port} (${code})\n`);
  process.exit(2);
}
log.info({ ari: config.ari.url, app: config.ari.app, edge: config.edge?.url ?? null, nodesFile: config.nodesFile !== null, metricsPort: agent.metricsPort }, "agent started");

let exiting = false;
for (const sig of ["SIGTERM", "SIGINT"] as const) {
  process.on(sig, () => {
    if (exiting) return;
    exiting = true;
    log.info({ signal: sig }, "signal received");
    agent.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err: String(err) }, "shutdown failed");
        process.exit(1);
      },
    );
  });
}
