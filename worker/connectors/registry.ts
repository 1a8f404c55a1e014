import { z } from "zod";
import { dynamics365 } from "./dynamics365.js";
import { freshdesk } from "./freshdesk.js";
import { hubspot } from "./hubspot.js";
import { pipedrive } from "./pipedrive.js";
import { rest } from "./rest.js";
import { salesforce } from "./salesforce.js";
import type { ConnectorModule } from "./types.js";
import { webhook } from "./webhook.js";
import { zendesk } from "./zendesk.js";
import { zoho } from "./zoho.js";

/** Every connector kind the edge knows. A CRM is one module listed here. */
export const connectorModules = [webhook, rest, hubspot, salesforce, zoho, pipedrive, zendesk, freshdesk, dynamics365] as const;

// Listed schema by schema (not mapped from connectorModules) so the union keeps each kind's
// exact type without a cast; registry.test.ts checks that both lists name the same kinds.
export const connectorConfig = z.discriminatedUnion("kind", [
  webhook.schema,
  rest.schema,
  hubspot.schema,
  salesforce.schema,
  zoho.schema,
  pipedrive.schema,
  zendesk.schema,
  freshdesk.schema,
  dynamics365.schema,
]);
export type ConnectorConfig = z.infer<typeof connectorConfig>;
export type ConnectorKind = ConnectorConfig["kind"];

// Each module's lookup takes its own config type; the map is read by kind, so the config a
// lookup receives is always the one its schema parsed (the cast only widens the parameter).
const byKind = new Map<string, ConnectorModule>(connectorModules.map((m) => [m.kind, m as unknown as ConnectorModule]));

export function connectorModule(kind: string): ConnectorModule {
  const m = byKind.get(kind);
  if (!m) throw new Error(`unknown connector kind ${kind}`);
  return m;
}
