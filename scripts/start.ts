import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { assertPortFree, PortBusyError } from "./port.js";

/**
 * `npm start`: the edge on its embedded local storage at 127.0.0.1:8787 (EDGE_PORT), seeded
 * with the demo tenant, plus the PBX agent pointed at it. `--edge-only` is `npm run edge`.
 */
const ROOT = resolve(import.meta.dirname, "..");
const edgeOnly = process.argv.includes("--edge-only");
const port = Number(process.env.EDGE_PORT ?? 8787);
const stateDir = resolve(process.env.EDGE_STATE_DIR ?? join(ROOT, ".wrangler/state"));

if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`crm-bridge: EDGE_PORT must be a port number (0-65535), got ${JSON.stringify(process.env.EDGE_PORT)}`);
  process.exit(2);
}
const metricsPort = process.env.METRICS_PORT ?? "9464";
const metricsHost = process.env.METRICS_HOST ?? "127.0.0.1";
// Checked before anything else: wrangler itself waits silently for a busy port, and the agent
// would only find its metrics port taken after the edge had started (leaving half a stack up).
const ports: Array<[string, number, string]> = [["EDGE_PORT", port, "127.0.0.1"]];
if (!edgeOnly && /^\d+$/.test(metricsPort)) ports.push(["METRICS_PORT", Number(metricsPort), metricsHost]);
for (const [variable, p, host] of ports) {
  try {
    await assertPortFree(host, p);
  } catch (e) {
    if (!(e instanceof PortBusyError)) throw e;
    const why = e.code === "EADDRINUSE" ? `is already in use (another \`npm start\`, ${variable === "EDGE_PORT" ? "`wrangler dev`" : "a PBX agent"}, or something else)` : `cannot be used (${e.code})`;
    console.error(`crm-bridge: port ${p} on ${host} (${variable}) ${why}. Stop that process or choose another port: ${variable}=${p + 1} npm start`);
    process.exit(1);
  }
}
// Loaded only now: wrangler takes seconds to import, and a busy port should be reported at once.
const { localSecrets, LocalStateError, startLocalEdge } = await import("./local-edge.js");
const { seedDemo } = await import("./seed.js");
// A damaged state directory is named with what to do, not a stack trace.
let secrets: ReturnType<typeof localSecrets>;
let edge: Awaited<ReturnType<typeof startLocalEdge>>;
try {
  secrets = localSecrets(stateDir);
  edge = await startLocalEdge({ stateDir, port, allowPrivate: process.env.ALLOW_PRIVATE_CRM_URLS !== "false", secrets });
} catch (e) {
  if (!(e instanceof LocalStateError)) throw e;
  console.error(`crm-bridge: ${e.message}`);
  process.exit(1);
}
const seeded = await seedDemo(edge.url, edge.adminToken, stateDir);

const lines = [
  `crm-bridge edge: ${edge.url}  (state: ${stateDir})`,
  `  UI:           ${edge.url}/ui/login`,
  `  OpenAPI:      ${edge.url}/openapi.json`,
  secrets.adminTokenGenerated ? `  operator token (ADMIN_TOKEN, shown once; kept in ${stateDir}/crm-bridge-local.json): ${edge.adminToken}` : null,
  `  demo admin key: ${seeded.adminKey}`,
  `  demo agent key: ${seeded.agentKey}`,
  `  nodes: ${seeded.nodes.join(", ")}${seeded.created ? " (seeded now)" : " (seeded before)"}`,
  ``,
  `Try it:`,
  `  curl -s -X POST -A OMniLeads -d idContact=12340 '${edge.url}/v1/tenants/demo/nodes/vip-routing/identify?key=${seeded.agentKey}' -i`,
  `  curl -s -X POST -H 'Authorization: Bearer ${seeded.agentKey}' -H 'Content-Type: application/json' -d '{"idContact":"12345"}' ${edge.url}/v1/tenants/demo/nodes/payments/identify`,
  `  npm run identify -- --tenant demo --node vip-routing --id 12340 --key ${seeded.agentKey}`,
].filter((l) => l !== null);
console.log(lines.join("\n"));

let agent: ChildProcess | null = null;
const agentMain = join(ROOT, "pbx-agent/src/main.ts");
if (!edgeOnly && existsSync(agentMain)) {
  // `--import tsx` keeps the agent one process, so our SIGTERM reaches it directly.
  agent = spawn(process.execPath, ["--import", "tsx", agentMain], {
    cwd: ROOT,
    stdio: "inherit",
    env: {
      ...process.env,
      EDGE_URL: edge.url,
      EDGE_KEY: seeded.agentKey,
      ARI_USERNAME: process.env.ARI_USERNAME ?? "crm-bridge",
      ARI_PASSWORD: process.env.ARI_PASSWORD ?? "crm-bridge",
      DESTINATIONS_FILE: process.env.DESTINATIONS_FILE ?? join(ROOT, "pbx-agent/asterisk/destinations.asterisk.json"),
      STATE_DIR: process.env.STATE_DIR ?? join(stateDir, "agent"),
      METRICS_PORT: metricsPort,
    },
  });
  // An agent that cannot run (bad settings, a port taken since the check) takes the stack down
  // with its exit code: an edge left running alone looks like a working `npm start`.
  agent.once("exit", (code, signal) => {
    if (stopping) return;
    console.error(`crm-bridge: the PBX agent exited (${signal ?? `code ${code}`}); stopping the edge. \`npm run edge\` runs the edge alone.`);
    void stop(code || 1);
  });
  console.log(`PBX agent started (ARI ${process.env.ARI_URL ?? "http://127.0.0.1:8088"}; no Asterisk yet? try \`npm run fake-asterisk\`).`);
}

let stopping = false;
async function stop(exitCode = 0) {
  if (stopping) return;
  stopping = true;
  // The agent finishes calls in progress (up to 10 s) before it exits; wait for it.
  const agentGone = agent && agent.exitCode === null ? new Promise((r) => agent!.once("exit", r)) : Promise.resolve();
  agent?.kill("SIGTERM");
  await Promise.all([agentGone, edge.close()]);
  process.exit(exitCode);
}
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
// However this process ends, the agent does not outlive it.
process.on("exit", () => {
  if (agent && agent.exitCode === null) agent.kill("SIGTERM");
});
