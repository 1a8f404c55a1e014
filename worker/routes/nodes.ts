import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import { node, nodeConfig } from "../../shared/node.js";
import type { AppEnv } from "../env.js";
import { requireAuth } from "../http/auth.js";
import { documented, jsonBody, ok, security, tenantParam } from "../http/documented.js";
import { serviceContext as svc } from "../services/context.js";
import * as nodes from "../services/nodes.js";
import { readJson, savedStatus } from "./read-json.js";

const params = tenantParam.extend({ node: z.string() });

export function nodeRoutes(app: OpenAPIHono<AppEnv>) {
  const admin = requireAuth(["admin"]);
  const reader = requireAuth(["admin", "agent"]);
  documented(
    app,
    { method: "put", path: "/v1/tenants/{tenant}/nodes/{node}", summary: "Create or replace a customer-id node", security, request: { params, ...jsonBody(nodeConfig) }, responses: { 200: ok(node, "Replaced"), 201: ok(node, "Created") } },
    admin,
    async (c) => {
      const r = await nodes.putNode(svc(c), c.req.param("tenant")!, nodes.parseNodeId(c.req.param("node")), await readJson(c.req.raw));
      return c.json(r.node, savedStatus(r));
    },
  );
  documented(
    app,
    { method: "get", path: "/v1/tenants/{tenant}/nodes", summary: "List nodes", security, request: { params: tenantParam }, responses: { 200: ok(z.object({ nodes: z.array(node) })) } },
    reader,
    async (c) => c.json({ nodes: await nodes.listNodes(svc(c), c.req.param("tenant")!) }),
  );
  documented(
    app,
    { method: "get", path: "/v1/tenants/{tenant}/nodes/{node}", summary: "One node (agents read it too)", security, request: { params }, responses: { 200: ok(node) } },
    reader,
    async (c) => c.json(await nodes.getNode(svc(c), c.req.param("tenant")!, c.req.param("node")!)),
  );
  documented(
    app,
    { method: "delete", path: "/v1/tenants/{tenant}/nodes/{node}", summary: "Delete a node", security, request: { params }, responses: { 204: { description: "Deleted" } } },
    admin,
    async (c) => {
      await nodes.deleteNode(svc(c), c.req.param("tenant")!, c.req.param("node")!);
      return c.body(null, 204);
    },
  );
}
