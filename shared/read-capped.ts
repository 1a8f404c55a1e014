/**
 * Reads a body as text, at most `limit` bytes; null when it is longer, and the rest is not
 * downloaded. Every place that takes bytes from outside (CRM replies, identify requests, edge
 * replies in the agent) reads through this, so one size rule and one decoder apply everywhere.
 */
export async function readCappedText(body: ReadableStream<Uint8Array> | null, limit: number): Promise<string | null> {
  if (!body) return "";
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    all.set(c, offset);
    offset += c.byteLength;
  }
  return new TextDecoder().decode(all);
}
