import WebSocket from "ws";

/**
 * The worker isolate's V8 heap in use after a full collection, read through local workerd's
 * inspector (Chrome DevTools Protocol). Local workerd's RSS also holds every Durable Object's
 * SQLite and V8's and the allocator's high-water marks, so it grows with the calls made, not
 * with what the isolate keeps; the heap after GC is what the isolate actually holds. A heap
 * snapshot is the collection: workerd's inspector does not answer HeapProfiler.collectGarbage,
 * and a snapshot collects first. The Durable Objects of this script share the isolate locally,
 * so their in-memory fields are in the figure too (their SQLite is not: that is on disk).
 */
export async function isolateHeapMb(inspectorUrl: string): Promise<number> {
  const targets = (await (await fetch(new URL("/json", inspectorUrl))).json()) as Array<{ webSocketDebuggerUrl: string }>;
  const target = targets[0]?.webSocketDebuggerUrl;
  if (!target) throw new Error("the local edge's inspector lists no worker");
  // The inspector proxy refuses a client with a User-Agent and no Origin from localhost.
  const ws = new WebSocket(target, { origin: "http://localhost" });
  await new Promise<void>((ok, fail) => {
    ws.once("open", () => ok());
    ws.once("error", fail);
  });
  let seq = 0;
  const waiting = new Map<number, (result: unknown) => void>();
  ws.on("message", (data: Buffer) => {
    // workerd answers takeHeapSnapshot, after its chunks, by echoing the request (no `result`).
    const m = JSON.parse(data.toString()) as { id?: number; result?: unknown };
    if (m.id !== undefined) waiting.get(m.id)?.(m.result ?? {});
  });
  const cdp = <T>(method: string, params: object = {}) =>
    new Promise<T>((ok, fail) => {
      const id = ++seq;
      const timer = setTimeout(() => fail(new Error(`inspector: no answer to ${method}`)), 120_000);
      waiting.set(id, (r) => {
        clearTimeout(timer);
        ok(r as T);
      });
      ws.send(JSON.stringify({ id, method, params }));
    });
  try {
    await cdp("HeapProfiler.enable");
    await cdp("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
    const { usedSize } = await cdp<{ usedSize: number }>("Runtime.getHeapUsage");
    return usedSize / 2 ** 20;
  } finally {
    ws.close();
  }
}
