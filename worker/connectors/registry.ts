import { z } from "zod";
import { rest } from "./rest.js";
import type { ConnectorModule } from "./types.js";
import { webhook } from "./webhook.js";

/** Every connector kind the edge knows. A CRM is one module listed here. */
export const connectorModules = [webhook, rest] as const;

export const connectorConfig = z.discriminatedUnion(
  "kind",
  connectorModules.map((m) => m.schema) as unknown as [typeof webhook.schema, typeof rest.schema],
);
export type ConnectorConfig = z.infer<typeof connectorConfig>;

const byKind = new Map<string, ConnectorModule>(connectorModules.map((m) => [m.kind, m as unknown as ConnectorModule]));

export function connectorModule(kind: string): ConnectorModule {
  const m = byKind.get(kind);
  if (!m) throw new Error(`unknown connector kind ${kind}`);
  return m;
}
