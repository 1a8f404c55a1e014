// A tiny HTTP API to drive the fake Asterisk by hand (curl) when it runs as
// `npm run fake-asterisk`: place a call, type digits, hang up, look at what the
// agent sent. JSON in, JSON out; no auth (it binds to localhost by default).

import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { FakeAsterisk } from "./server.js";

export interface ControlServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function jsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (text === "") return {};
  try {
    const v: unknown = JSON.parse(text);
    if (v && typeof v === "object" && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through to the 400 below
  }
  throw new HttpError(400, "body must be a JSON object");
}

const str = (v: unknown, name: string): string => {
  if (typeof v !== "string" || v === "") throw new HttpError(400, `${name} (string) is required`);
  return v;
};

const isStringRecord = (v: unknown): v is Record<string, string> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === "string");

export async function startControlServer(fake: FakeAsterisk, port = 0, host = "127.0.0.1"): Promise<ControlServer> {
  const route = async (req: IncomingMessage): Promise<[number, unknown]> => {
    const url = new URL(req.url ?? "/", "http://control");
    const parts = url.pathname.split("/").filter(Boolean);
    const method = req.method ?? "GET";
    const body = method === "POST" ? await jsonBody(req) : {};
    const [head, id, action] = parts;

    if (head === "calls" && id === undefined && method === "POST") {
      const args = Array.isArray(body.args) ? body.args.map(String) : [str(body.tenant, "tenant"), str(body.node, "node")];
      try {
        const channelId = fake.placeCall({
          args,
          ...(typeof body.callerNumber === "string" ? { callerNumber: body.callerNumber } : {}),
          ...(typeof body.callerName === "string" ? { callerName: body.callerName } : {}),
          ...(typeof body.callerPresentation === "string" ? { callerPresentation: body.callerPresentation } : {}),
          ...(isStringRecord(body.variables) ? { variables: body.variables } : {}),
          ...(typeof body.app === "string" ? { app: body.app } : {}),
        });
        return [201, { channelId }];
      } catch (e) {
        throw new HttpError(409, e instanceof Error ? e.message : String(e));
      }
    }
    if (head === "calls" && id === undefined && method === "GET") {
      return [200, fake.channelsInApp().map((channelId) => ({ channelId, ...fake.channelState(channelId) }))];
    }
    if (head === "calls" && id !== undefined) {
      const state = (): unknown => {
        try {
          return fake.channelState(id);
        } catch {
          throw new HttpError(404, `no call ${id}`);
        }
      };
      if (action === undefined && method === "GET") return [200, { channelId: id, ...(state() as object), vars: fake.channelVars(id) }];
      state();
      if (action === "dtmf" && method === "POST") {
        const gapMs = typeof body.gapMs === "number" ? body.gapMs : 250;
        try {
          await fake.sendDtmf(id, str(body.digits, "digits"), { gapMs });
        } catch (e) {
          throw new HttpError(409, e instanceof Error ? e.message : String(e));
        }
        return [200, { channelId: id, sent: body.digits }];
      }
      if (action === "hangup" && method === "POST") {
        try {
          fake.hangup(id);
        } catch (e) {
          throw new HttpError(409, e instanceof Error ? e.message : String(e));
        }
        return [200, { channelId: id, ...(state() as object) }];
      }
    }
    if (head === "commands" && method === "GET") {
      const since = Number(url.searchParams.get("since") ?? 0);
      return [200, fake.commands.filter((c) => c.seq > since)];
    }
    if (head === "events" && method === "GET") {
      const since = Number(url.searchParams.get("since") ?? 0);
      return [200, fake.events.filter((e) => e.seq > since)];
    }
    if (head === "websocket" && id === "drop" && method === "POST") {
      await fake.dropWebSocket();
      return [200, { dropped: true }];
    }
    if (head === "restart" && method === "POST") {
      await fake.restart({ downMs: typeof body.downMs === "number" ? body.downMs : 1000 });
      return [200, { restarted: true }];
    }
    if (head === "status" && method === "GET") {
      return [200, { ari: fake.url, app: fake.app, connected: fake.isConnected(), callsInApp: fake.channelsInApp() }];
    }
    throw new HttpError(404, `no route ${method} ${url.pathname}`);
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    route(req)
      .then(([status, body]) => {
        res.writeHead(status, { "Content-Type": "application/json" }).end(`${JSON.stringify(body, null, 2)}\n`);
      })
      .catch((e: unknown) => {
        const status = e instanceof HttpError ? e.status : 500;
        res.writeHead(status, { "Content-Type": "application/json" }).end(`${JSON.stringify({ error: e instanceof Error ? e.message : String(e) })}\n`);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${actual}`,
    port: actual,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
