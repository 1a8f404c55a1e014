import { formFields, mediaType, readBodyBytes } from "../http/read-body.js";
import { DomainError } from "../services/errors.js";

export const MAX_IDENTIFY_BODY = 8 * 1024;

/** What an identify request carries; null = absent or unreadable. */
export type IdentifyBody = { idContact: string | null; callerNumber: string | null };
const NOTHING: IdentifyBody = { idContact: null, callerNumber: null };

function fromForm(text: string): IdentifyBody {
  const form = new URLSearchParams(text);
  return { idContact: form.get("idContact"), callerNumber: form.get("callerNumber") };
}

/** A JSON value as the text it stands for: a string, or the exact digits of a JSON number. */
function jsonText(v: unknown): string | null {
  if (typeof v === "string") return v;
  // A JSON number is what a hand-written client often sends; keep its digits exactly.
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return String(v);
  return null;
}

function fromJson(text: string): IdentifyBody | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) return NOTHING;
  const b = body as Record<string, unknown>;
  return { idContact: jsonText(b.idContact), callerNumber: jsonText(b.callerNumber) };
}

/**
 * The idContact and callerNumber of an identify request in every encoding of SPEC 2a: the
 * form POST Asterisk's CURL() sends, a JSON body, multipart, or text/plain holding either.
 * Every encoding, multipart included, is read under the same 8 KiB cap before it is parsed.
 */
export async function readIdentifyBody(req: Request): Promise<IdentifyBody> {
  const type = mediaType(req);
  const known = ["", "application/x-www-form-urlencoded", "application/json", "text/plain", "multipart/form-data"];
  if (!known.includes(type) && !type.endsWith("+json")) {
    throw new DomainError("unsupported_media_type", "send application/x-www-form-urlencoded, application/json or text/plain");
  }
  const bytes = await readBodyBytes(req, MAX_IDENTIFY_BODY);
  if (type === "multipart/form-data") {
    const fields = await formFields(type, req.headers.get("content-type") ?? "", bytes);
    return { idContact: fields?.idContact ?? null, callerNumber: fields?.callerNumber ?? null };
  }
  const text = new TextDecoder().decode(bytes);
  if (type === "application/x-www-form-urlencoded") return fromForm(text);
  if (type === "application/json" || type.endsWith("+json")) {
    const v = fromJson(text);
    if (v === undefined) throw new DomainError("bad_json", "body is not valid JSON");
    return v;
  }
  // text/plain or no type: whichever of the two forms it holds.
  const trimmed = text.trim();
  return trimmed.startsWith("{") ? (fromJson(trimmed) ?? NOTHING) : fromForm(trimmed);
}
