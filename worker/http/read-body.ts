import { readCappedBytes } from "../../shared/read-capped.js";
import { DomainError } from "../services/errors.js";

/**
 * The only way the edge reads a request body (lint forbids the others): at most `limit`
 * bytes whatever the encoding — a Content-Length is refused early when it is too big, and a
 * chunked body (no Content-Length) is cut off at the cap instead of being buffered whole.
 */
export async function readBodyBytes(req: Request, limit: number): Promise<Uint8Array> {
  const tooLarge = () => new DomainError("body_too_large", `request bodies here are at most ${limit} bytes`);
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > limit) throw tooLarge();
  let bytes: Uint8Array | null;
  try {
    bytes = await readCappedBytes(req.body, limit);
  } catch {
    throw new DomainError("bad_body", "the request body broke off");
  }
  if (bytes === null) throw tooLarge();
  return bytes;
}

export async function readBodyText(req: Request, limit: number): Promise<string> {
  return new TextDecoder().decode(await readBodyBytes(req, limit));
}

export function mediaType(req: Request): string {
  return (req.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
}

/**
 * A form body (urlencoded or multipart) as its string fields, read under the cap first and
 * only then parsed, so a multipart body cannot slip past it. Later duplicates win. Null when
 * a multipart body does not parse.
 */
export async function readFormFields(req: Request, limit: number): Promise<Record<string, string> | null> {
  return formFields(mediaType(req), req.headers.get("content-type") ?? "", await readBodyBytes(req, limit));
}

/** The string fields of form bytes already read under a cap; other media types have none. */
export async function formFields(type: string, contentType: string, bytes: Uint8Array): Promise<Record<string, string> | null> {
  const fields: Record<string, string> = {};
  if (type === "multipart/form-data") {
    const form = await new Response(bytes, { headers: { "content-type": contentType } }).formData().catch(() => null);
    if (!form) return null;
    // File parts have no place in these forms: only string fields are kept.
    form.forEach((v, k) => {
      if (typeof v === "string") fields[k] = v;
    });
  } else if (type === "application/x-www-form-urlencoded") {
    for (const [k, v] of new URLSearchParams(new TextDecoder().decode(bytes))) fields[k] = v;
  }
  return fields;
}
