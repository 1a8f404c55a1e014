import { connectorNames, nodeConfig, type NodeConfig } from "../../shared/node.js";
import * as store from "../store/nodes.js";
import { logChange, removeOne, type ServiceContext } from "./context.js";
import { notFound, parseId, parseOrFail, validationFailed, type ParseParams } from "./errors.js";

export const parseNodeId = (raw: string | undefined) => parseId(raw, "invalid_node_id", "node");

/** The node against the shared schema, before anything is read or stored. */
export const checkNode = (input: unknown, parse?: ParseParams): NodeConfig => parseOrFail(nodeConfig, input, parse);

/** Where a node is validated: the shared schema, then what only the edge knows (its connectors exist, no agent-only url). */
export async function putNode(ctx: ServiceContext, tenant: string, id: string, input: unknown, parse?: ParseParams) {
  const started = Date.now();
  const config = checkNode(input, parse);
  if (config.url !== undefined) throw validationFailed([{ path: "url", message: "only agent NODES_FILE nodes may name a url; use a webhook connector" }]);
  const names = connectorNames(config);
  const existing = await store.existingConnectors(ctx.env.DB, tenant, names);
  const missing = names.filter((n) => !existing.includes(n));
  if (missing.length) throw validationFailed([{ path: "connector", message: `no connector named ${missing.join(", ")}` }]);
  const saved = await store.saveNode(ctx.env.DB, tenant, id, config);
  logChange(ctx, tenant, "node.put", id, saved.created ? "created" : "updated", started);
  return saved;
}

export function findNode(ctx: ServiceContext, tenant: string, id: string) {
  return store.getNode(ctx.env.DB, tenant, id);
}

export async function getNode(ctx: ServiceContext, tenant: string, id: string) {
  const n = await findNode(ctx, tenant, id);
  if (!n) throw notFound("node");
  return n;
}

export function listNodes(ctx: ServiceContext, tenant: string) {
  return store.listNodes(ctx.env.DB, tenant);
}

export function deleteNode(ctx: ServiceContext, tenant: string, id: string): Promise<void> {
  return removeOne(ctx, tenant, { what: "node", id, action: "node.delete", outcome: "deleted" }, () => store.deleteNode(ctx.env.DB, tenant, id));
}
