import { z } from "zod";

/** OMniLeads' destination types (SPEC 1). */
export const DESTINATION_TYPES = {
  1: "inbound campaign",
  2: "date/time condition",
  3: "IVR",
  4: "extension",
  5: "hang up",
  6: "survey",
  7: "custom destination",
  8: "voicemail",
  9: "customer-id node",
  10: "WhatsApp menu",
  11: "agent",
  12: "closing message",
} as const;
export const HANGUP_TYPE = 5;
export const NODE_TYPE = 9;

export const destinationType = z.number().int().min(1).max(12);
export const destination = z.object({
  type: destinationType,
  id: z.number().int().positive(),
});
export type Destination = z.infer<typeof destination>;

// "X,Y" with positive integers; spaces around each part tolerated, nothing else (SPEC 2).
const WIRE_PAIR = /^\s*([1-9][0-9]{0,8})\s*,\s*([1-9][0-9]{0,15})\s*$/;

/** Parses the wire form "X,Y"; null when it is not a valid destination. */
export function parseDestination(wire: string): Destination | null {
  const m = WIRE_PAIR.exec(wire);
  if (!m) return null;
  const parsed = destination.safeParse({ type: Number(m[1]), id: Number(m[2]) });
  return parsed.success && Number.isSafeInteger(parsed.data.id) ? parsed.data : null;
}

export function formatDestination(d: Destination): string {
  return `${d.type},${d.id}`;
}

/**
 * What a CRM (or a rule) may answer as `destination`: "true", "false" or "X,Y".
 * Normalised: surrounding spaces dropped, the pair written without spaces.
 */
export const decision = z
  .string()
  .transform((s, ctx) => {
    const t = s.trim();
    if (t === "true" || t === "false") return t;
    const d = parseDestination(t);
    if (d) return formatDestination(d);
    ctx.addIssue({ code: "custom", message: 'expected "true", "false" or "X,Y" (destination type 1–12, positive id)' });
    return z.NEVER;
  });
export type Decision = z.infer<typeof decision>;
