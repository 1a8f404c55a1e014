import { join } from "node:path";
import type { FakeAsterisk } from "../../fake-asterisk/index.js";
import { startTs, type Proc } from "../../support/processes.js";
import type { FakeEdge } from "./fake-edge.js";

/** The pair's Stasis apps, as the sample dialplan names them, and a dead time short enough for tests. */
export const PEER_APPS = ["crm-bridge-a", "crm-bridge-b"] as const;
export const PEER_DEAD_MS = 1200;

/**
 * One of two agent processes on one Asterisk, each with its own Stasis app and the other as its
 * peer (pbx-agent/asterisk/extensions.conf). `dir` holds destinations.json and each agent's state.
 */
export function startPeerAgent(o: { asterisk: FakeAsterisk; edge: FakeEdge; dir: string; app: string; peer: string; deadMs: number; env?: Record<string, string> }): Proc {
  return startTs("pbx-agent/src/main.ts", {
    ARI_URL: o.asterisk.url,
    ARI_USERNAME: o.asterisk.username,
    ARI_PASSWORD: o.asterisk.password,
    ARI_APP: o.app,
    ARI_PEER_APPS: o.peer,
    ARI_PEER_DEAD_MS: String(o.deadMs),
    ARI_RECONNECT_MAX_MS: "200",
    EDGE_URL: o.edge.url,
    EDGE_KEY: o.edge.key,
    DESTINATIONS_FILE: join(o.dir, "destinations.json"),
    STATE_DIR: join(o.dir, `state-${o.app}`),
    METRICS_PORT: "0",
    LOG_LEVEL: "info",
    ...o.env,
  });
}

/** Both agents up and beating, so each knows the other as alive before anything is frozen or killed. */
export async function startPeerPair(asterisk: FakeAsterisk, start: (app: string, peer: string) => Proc, apps: readonly [string, string]): Promise<[Proc, Proc]> {
  const first = start(apps[0], apps[1]);
  const second = start(apps[1], apps[0]);
  await asterisk.waitForApp(apps[0], 20_000);
  await asterisk.waitForApp(apps[1], 20_000);
  await second.waitFor(/"msg":"ari connected"/);
  await new Promise((r) => setTimeout(r, PEER_DEAD_MS));
  return [first, second];
}
