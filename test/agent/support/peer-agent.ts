import { join } from "node:path";
import type { FakeAsterisk } from "../../fake-asterisk/index.js";
import { startTs, type Proc } from "../../support/processes.js";
import type { FakeEdge } from "./fake-edge.js";

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
