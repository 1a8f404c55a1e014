import { slug } from "../../shared/ids.js";
import { connectorNames, nodeConfig, type NodeConfig } from "../../shared/node.js";
import * as store from "../store/nodes.js";
import { logChange, type ServiceContext } from "./context.js";
import { DomainError, notFound, validationFailed } from "./errors.js";

type ParseParams = Parameters<typeof nodeConfig.safeParse>[1];

export function parseNodeId(raw: string | undefined): string {
  const id = slug.safeParse(raw);
  if (!id.success) throw new DomainError("invalid_node_id", "node ids are lower-case letters, digits and '-'");
  return id.data;
}

/** The node against the shared schema, before anything is read or stored. */
export function checkNode(input: unknown, parse?: ParseParams): NodeConfig {
  const parsed = nodeConfig.safeParse(input, parse);
  if (!parsed.success) throw validationFailed(parsed.error.issues);
  return parsed.data;
}

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

export async function deleteNode(ctx: ServiceContext, tenant: string, id: string): Promise<void> {
  const started = Date.now();
  if (!(await store.deleteNode(ctx.env.DB, tenant, id))) throw notFound("node");
  logChange(ctx, tenant, "node.delete", id, "deleted", started);
}
