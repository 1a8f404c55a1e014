import { z } from "zod";
import { slug } from "./ids.js";
import { destination } from "./destination.js";
import { countryCode } from "./phone.js";

/** OMniLeads stores the interaction as 1, 2, 3; we name them. */
export const interaction = z.enum(["none", "crm_true_false", "crm_destination"]);
export type Interaction = z.infer<typeof interaction>;

/**
 * How the caller is identified: the typed id (today's behaviour), the calling number alone
 * (never a prompt: not found, withheld or ambiguous is the failure destination), or the number
 * first and the prompt when it does not identify exactly one customer.
 */
export const identifyBy = z.enum(["dtmf", "caller_number", "caller_number_then_dtmf"]);
export type IdentifyBy = z.infer<typeof identifyBy>;

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
  identifyBy: identifyBy.default("dtmf"),
  /** On a number match, ask for "1" before routing; anything else falls back to the prompt. */
  confirmCaller: z.boolean().default(false),
  /** For caller numbers in national format (no "+"); without it such numbers are unusable. */
  defaultCountry: countryCode.optional(),
  successDestination: destination,
  failureDestination: destination,
};

function needsCrm(n: { interaction: Interaction; identifyBy: IdentifyBy; connector?: unknown; url?: unknown }, ctx: z.RefinementCtx) {
  if (n.connector !== undefined || n.url !== undefined) return;
  if (n.interaction !== "none") ctx.addIssue({ code: "custom", path: ["connector"], message: "required for the CRM interaction types" });
  // Mode none with a number lookup still asks a CRM whether the number is known.
  else if (n.identifyBy !== "dtmf") ctx.addIssue({ code: "custom", path: ["connector"], message: "required to identify by caller number" });
}

/**
 * Checked even when other fields fail (zod skips a refinement then by default), so a form shows
 * "choose a connector" with the other errors, not after they are fixed. Only the fields it
 * reads must be sound.
 */
const needsCrmWhen = {
  when: (p: { value: unknown }) => {
    const v = p.value as { interaction?: unknown; identifyBy?: unknown } | null;
    return typeof v === "object" && v !== null && typeof v.interaction === "string" && (v.identifyBy === undefined || typeof v.identifyBy === "string");
  },
};

/** A node as stored by the edge (PUT body). */
export const nodeConfig = z.object(nodeFields).strict().check(z.superRefine(needsCrm, needsCrmWhen));
export type NodeConfig = z.infer<typeof nodeConfig>;
export type NodeConfigInput = z.input<typeof nodeConfig>;

/** A node as the edge returns it and as NODES_FILE lists it. */
export const node = z.object({ id: slug, tenant: slug.optional(), ...nodeFields }).strict().check(z.superRefine(needsCrm, needsCrmWhen));
export type Node = z.infer<typeof node>;

/** NODES_FILE: `{ "<tenant>": { "<node>": NodeConfig } }`. */
export const nodesFile = z.record(slug, z.record(slug, nodeConfig));
export type NodesFile = z.infer<typeof nodesFile>;

export function connectorNames(n: { connector?: string | string[] | undefined }): string[] {
  if (n.connector === undefined) return [];
  return Array.isArray(n.connector) ? n.connector : [n.connector];
}
