import type { Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/**
 * Listens on 127.0.0.1 and returns a close() that also cuts open connections: a fake CRM that
 * hangs on purpose would otherwise keep server.close() waiting forever.
 */
export async function listenLoopback(server: Server, port = 0): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
