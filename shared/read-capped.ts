/**
 * What a capped read may also draw from: a pool shared with other reads in flight (the
 * edge's per-isolate CRM reply budget). `take` answers false when the pool is empty.
 */
export interface ByteLease {
  take(bytes: number): boolean;
}

/** Thrown when a ByteLease refuses a chunk: the body fits its own cap, the shared pool is spent. */
export class OverBudgetError extends Error {
  constructor() {
    super("byte budget spent");
  }
}

/**
 * Reads a body, at most `limit` bytes; null when it is longer, and the rest is not downloaded.
 * Every place that takes bytes from outside (CRM replies, every request body the edge reads,
 * edge replies in the agent) reads through this, so one size rule applies whatever the
 * encoding, chunked or not, and whatever a Content-Length claimed.
 */
export async function readCappedBytes(body: ReadableStream<Uint8Array> | null, limit: number, lease?: ByteLease): Promise<Uint8Array | null> {
  if (!body) return new Uint8Array(0);
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
    if (lease && !lease.take(value.byteLength)) {
      await reader.cancel().catch(() => undefined);
      throw new OverBudgetError();
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const all = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    all.set(c, offset);
    offset += c.byteLength;
  }
  return all;
}

/** readCappedBytes decoded as UTF-8: one decoder for every capped body. */
export async function readCappedText(body: ReadableStream<Uint8Array> | null, limit: number, lease?: ByteLease): Promise<string | null> {
  const bytes = await readCappedBytes(body, limit, lease);
  return bytes === null ? null : new TextDecoder().decode(bytes);
}
