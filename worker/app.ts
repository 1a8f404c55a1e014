import { OpenAPIHono } from "@hono/zod-openapi";
import { requestId } from "hono/request-id";
import { demoCrmRoutes } from "./demo/crm.js";
import { misconfiguration, type AppEnv } from "./env.js";
import { errorResponse, onError } from "./http/errors.js";
import { cacheAndDecisionRoutes } from "./routes/cache-and-decisions.js";
import { connectorTestRoutes } from "./routes/connector-test.js";
import { connectorRoutes } from "./routes/connectors.js";
import { healthRoutes } from "./routes/health.js";
import { identifyRoutes } from "./routes/identify.js";
import { nodeRoutes } from "./routes/nodes.js";
import { tenantRoutes } from "./routes/tenants.js";
import { bumpOnWrite } from "./tenant/bump-on-write.js";
import { uiRoutes } from "./ui/index.js";

export function createApp() {
  const app = new OpenAPIHono<AppEnv>();
  app.use(requestId({ headerName: "X-Request-Id" }));
  // Workers have no start-up hook: a missing secret is refused on every request, before any
  // handler could half-serve it. /health and /openapi.json read no binding, so they stay up.
  app.use(async (c, next) => {
    if (c.req.path === "/health" || c.req.path === "/openapi.json") return next();
    const problem = misconfiguration(c.env);
    if (problem) return errorResponse(c, 503, "misconfigured", `the worker is misconfigured: ${problem}`);
    return next();
  });
  app.onError(onError);
  app.use(bumpOnWrite);
  app.notFound((c) => errorResponse(c, 404, "not_found", "no such path"));

  healthRoutes(app);
  tenantRoutes(app);
  connectorRoutes(app);
  connectorTestRoutes(app);
  nodeRoutes(app);
  identifyRoutes(app);
  cacheAndDecisionRoutes(app);
  demoCrmRoutes(app);
  uiRoutes(app);

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "The operator token (ADMIN_TOKEN) or a tenant key (cbk_…)",
  });
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: { title: "crm-bridge edge", version: "1", description: "Routes inbound calls by the caller's identity in a CRM (OMniLeads-compatible contract)." },
  });
  return app;
}
