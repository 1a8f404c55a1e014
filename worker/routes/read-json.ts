import { mediaType, readBodyText } from "../http/read-body.js";
import { DomainError } from "../services/errors.js";

export const MAX_ADMIN_BODY = 64 * 1024;

/** The JSON body of an admin request; the wrong type, bad JSON and oversize each get their own code. */
export async function readJson(req: Request): Promise<unknown> {
  const type = mediaType(req);
  if (type !== "application/json" && !type.endsWith("+json")) {
    throw new DomainError("unsupported_media_type", "send application/json");
  }
  const text = await readBodyText(req, MAX_ADMIN_BODY);
  try {
    return JSON.parse(text);
  } catch {
    throw new DomainError("bad_json", "body is not valid JSON");
  }
}

/** A PUT's answer: 201 when it created the object, 200 when it replaced one. */
export const savedStatus = (r: { created: boolean }) => (r.created ? 201 : 200);
