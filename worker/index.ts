import { createApp } from "./app.js";
import type { Env } from "./env.js";
import { countedEnv, countersReport, resetCounters } from "./local/counters.js";

export { CircuitBreaker } from "./circuit/breaker.js";
export { ConfigFeed } from "./tenant/feed.js";
export { TenantHome } from "./tenant/home.js";

const app = createApp();

export default {
  fetch(req: Request, env: Env, ctx: ExecutionContext) {
    if (env.LOCAL_MODE !== "true") return app.fetch(req, env, ctx);
    // Local only (npm start, tests, bench): binding calls are counted for the many-tenant bench.
    if (new URL(req.url).pathname === "/_local/counters") {
      if (req.method === "DELETE") resetCounters();
      return Response.json(countersReport());
    }
    return app.fetch(req, countedEnv(env), ctx);
  },
} satisfies ExportedHandler<Env>;
