import { z } from "zod";

export const tenantInput = z.object({ name: z.string().trim().min(1).max(100) }).strict();
export type TenantInput = z.infer<typeof tenantInput>;

export const role = z.enum(["admin", "agent"]);
export type Role = z.infer<typeof role>;

export const keyInput = z.object({ role }).strict();
export const createdKey = z.object({ id: z.string(), key: z.string(), role });
export const keyInfo = z.object({
  id: z.string(),
  role,
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type KeyInfo = z.infer<typeof keyInfo>;
