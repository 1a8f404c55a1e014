import { readCappedText } from "../../shared/read-capped.js";
import { DomainError } from "../services/errors.js";

export const MAX_IDENTIFY_BODY = 8 * 1024;

function fromForm(text: string): string | null {
  return new URLSearchParams(text).get("idContact");
}

function fromJson(text: string): string | null | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) return null;
  const v = (body as Record<string, unknown>).idContact;
  if (typeof v === "string") return v;
  // A JSON number is what a hand-written client often sends; keep its digits exactly.
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return String(v);
  return null;
}

/**
 * The idContact of an identify request in every encoding of SPEC 2a: the form POST
 * Asterisk's CURL() sends, a JSON body, or text/plain holding either. Null = no readable id.
 */
export async function readIdContact(req: Request): Promise<string | null> {
  const type = (req.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > MAX_IDENTIFY_BODY) throw new DomainError("body_too_large", `identify bodies are at most ${MAX_IDENTIFY_BODY} bytes`);
  const known = ["", "application/x-www-form-urlencoded", "application/json", "text/plain", "multipart/form-data"];
  if (!known.includes(type) && !type.endsWith("+json")) {
    throw new DomainError("unsupported_media_type", "send application/x-www-form-urlencoded, application/json or text/plain");
  }
  if (type === "multipart/form-data") {
    const v = (await req.formData().catch(() => null))?.get("idContact");
    return typeof v === "string" ? v : null;
  }
  const text = await readCapped(req);
  if (type === "application/x-www-form-urlencoded") return fromForm(text);
  if (type === "application/json" || type.endsWith("+json")) {
    const v = fromJson(text);
    if (v === undefined) throw new DomainError("bad_json", "body is not valid JSON");
    return v;
  }
  // text/plain or no type: whichever of the two forms it holds.
  const trimmed = text.trim();
  return trimmed.startsWith("{") ? (fromJson(trimmed) ?? null) : fromForm(trimmed);
}

async function readCapped(req: Request): Promise<string> {
  let text: string | null;
  try {
    text = await readCappedText(req.body, MAX_IDENTIFY_BODY);
  } catch {
    throw new DomainError("bad_body", "the request body broke off");
  }
  if (text === null) throw new DomainError("body_too_large", `identify bodies are at most ${MAX_IDENTIFY_BODY} bytes`);
  return text;
}
