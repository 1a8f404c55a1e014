import { createServer } from "node:net";

/** A port someone else already listens on; wrangler would otherwise wait for it without a word. */
export class PortBusyError extends Error {
  constructor(
    readonly host: string,
    readonly port: number,
    readonly code: string,
  ) {
    super(`cannot listen on ${host}:${port} (${code})`);
  }
}

/** Fails at once when the port cannot be bound; the probe is closed before wrangler binds it. */
export async function assertPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolveFree, reject) => {
    const probe = createServer();
    probe.once("error", (e: NodeJS.ErrnoException) => reject(new PortBusyError(host, port, e.code ?? String(e))));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolveFree()));
  });
}
