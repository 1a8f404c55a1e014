import { DomainError } from "../services/errors.js";

export const MAX_ADMIN_BODY = 64 * 1024;

/** The JSON body of an admin request; the wrong type, bad JSON and oversize each get their own code. */
export async function readJson(req: Request): Promise<unknown> {
  const type = (req.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json" && !type.endsWith("+json")) {
    throw new DomainError("unsupported_media_type", "send application/json");
  }
  // Size is capped before this by the bodyLimit middleware (MAX_ADMIN_BODY).
  const text = await req.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new DomainError("bad_json", "body is not valid JSON");
  }
}
