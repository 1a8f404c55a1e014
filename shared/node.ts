import { z } from "zod";
import { slug } from "./ids.js";
import { destination } from "./destination.js";

/** OMniLeads stores the interaction as 1, 2, 3; we name them. */
export const interaction = z.enum(["none", "crm_true_false", "crm_destination"]);
export type Interaction = z.infer<typeof interaction>;

const nodeFields = {
  name: z.string().trim().min(1).max(50),
  interaction,
  /** One connector, or a chain asked in order (SPEC 4). */
  connector: z.union([slug, z.array(slug).min(1).max(5)]).optional(),
  /** Agent-only (NODES_FILE): a CRM that already speaks the contract, asked with no edge. */
  url: z.url({ protocol: /^https?$/ }).optional(),
  audio: z.string().trim().min(1).max(200).default("sound:beep"),
  expectedLength: z.number().int().min(1).max(30).nullish(),
  timeoutSeconds: z.number().int().min(1).max(60).default(5),
  attempts: z.number().int().min(1).max(20).default(1),
  confirm: z.boolean().default(false),
  successDestination: destination,
  failureDestination: destination,
};

function needsCrm(n: { interaction: Interaction; connector?: unknown; url?: unknown }, ctx: z.RefinementCtx) {
  if (n.interaction !== "none" && n.connector === undefined && n.url === undefined) {
    ctx.addIssue({ code: "custom", path: ["connector"], message: "required for the CRM interaction types" });
  }
}

/** A node as stored by the edge (PUT body). */
export const nodeConfig = z.object(nodeFields).strict().superRefine(needsCrm);
export type NodeConfig = z.infer<typeof nodeConfig>;
export type NodeConfigInput = z.input<typeof nodeConfig>;

/** A node as the edge returns it and as NODES_FILE lists it. */
export const node = z.object({ id: slug, tenant: slug.optional(), ...nodeFields }).strict().superRefine(needsCrm);
export type Node = z.infer<typeof node>;

/** NODES_FILE: `{ "<tenant>": { "<node>": NodeConfig } }`. */
export const nodesFile = z.record(slug, z.record(slug, nodeConfig));
export type NodesFile = z.infer<typeof nodesFile>;

export function connectorNames(n: { connector?: string | string[] | undefined }): string[] {
  if (n.connector === undefined) return [];
  return Array.isArray(n.connector) ? n.connector : [n.connector];
}
