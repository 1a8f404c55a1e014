import { z } from "zod";

/** A dialplan location the agent continues the call at; `{type}` and `{id}` are replaced in `extension`. */
export const dialplanTarget = z
  .object({
    context: z.string().min(1).max(80),
    extension: z.string().min(1).max(80),
    priority: z.number().int().min(1).default(1),
  })
  .strict();
export type DialplanTarget = z.infer<typeof dialplanTarget>;

/** DESTINATIONS_FILE (SPEC 6). */
export const destinationsFile = z
  .object({
    types: z
      .record(z.string().regex(/^(?:[1-9]|1[0-2])$/, "destination type 1–12"), dialplanTarget)
      .default({}),
    default: dialplanTarget,
    fallback: dialplanTarget,
  })
  .strict();
export type DestinationsFile = z.infer<typeof destinationsFile>;
