import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { NodeConfigInput } from "../../../shared/node.js";

/** How the fake edge answers identify for one node. */
export type IdentifyBehaviour =
  | { reply: { status: string; destination: string; idContact?: string } | string; delayMs?: number }
  | { status: number; delayMs?: number }
  | { hang: true }
  | ((idContact: string) => IdentifyBehaviour);

/** How the fake edge answers a caller-number lookup (`callerNumber=` in the form body) for one number. */
export type CallerAnswer = { idContact: string; destination?: string } | "ambiguous";

export type SeenRequest = { method: string; path: string; headers: IncomingMessage["headers"]; body: string; at: number };

export interface FakeEdge {
  url: string;
  key: string;
  nodes: Map<string, NodeConfigInput & { id?: string }>;
  identify: Map<string, IdentifyBehaviour>;
  requests: SeenRequest[];
  setNode(tenant: string, id: string, node: NodeConfigInput): void;
  setIdentify(tenant: string, id: string, b: IdentifyBehaviour): void;
  /**
   * Caller-number lookups, any node: a known number answers `ok` with the customer's `idContact`
   * (destination "true" unless given); "ambiguous" is `fail` without one; an unknown number is
   * `ok`/"false" without one, as the edge answers a number no customer has.
   */
  callers: Map<string, CallerAnswer>;
  /** Caller-number lookups answer after this many ms. */
  callerDelayMs: number;
  /** Node GETs answer 503 while down (identify too). */
  down: boolean;
  /** Node GETs answer after this many ms. */
  nodeDelayMs: number;
  close(): Promise<void>;
}

/** A real HTTP server speaking the two edge endpoints the agent uses. */
export async function startFakeEdge(opts: { key?: string } = {}): Promise<FakeEdge> {
  const key = opts.key ?? "agent-key-0123456789";
  const sockets = new Set<Socket>();
  const pending = new Set<ServerResponse>();
  const edge: FakeEdge = {
    url: "",
    key,
    nodes: new Map(),
    identify: new Map(),
    callers: new Map(),
    callerDelayMs: 0,
    requests: [],
    down: false,
    nodeDelayMs: 0,
    setNode(t, id, n) {
      edge.nodes.set(`${t}/${id}`, { id, ...n });
    },
    setIdentify(t, id, b) {
      edge.identify.set(`${t}/${id}`, b);
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const send = (res: ServerResponse, status: number, body: unknown) => {
    const text = typeof body === "string" ? body : JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json" });
    res.end(text);
  };
  const answer = (res: ServerResponse, b: IdentifyBehaviour, id: string): void => {
    if (typeof b === "function") return answer(res, b(id), id);
    if ("hang" in b) {
      pending.add(res);
      res.on("close", () => pending.delete(res));
      return;
    }
    const go = () => ("reply" in b ? send(res, 200, b.reply) : send(res, b.status, { error: { code: "boom", message: "fake" } }));
    if (b.delayMs) setTimeout(go, b.delayMs);
    else go();
  };
  const server = createServer(async (req, res) => {
    // Like the edge: the caller's X-Request-Id comes back (a fresh one when none was sent).
    res.setHeader("x-request-id", req.headers["x-request-id"] ?? crypto.randomUUID());
    let body = "";
    for await (const c of req) body += c;
    const path = new URL(req.url ?? "/", "http://x").pathname;
    edge.requests.push({ method: req.method ?? "", path, headers: req.headers, body, at: Date.now() });
    if (req.headers.authorization !== `Bearer ${key}`) return send(res, 401, { error: { code: "unauthorized", message: "no" } });
    if (edge.down) return send(res, 503, { error: { code: "down", message: "down" } });
    const m = /^\/v1\/tenants\/([^/]+)\/nodes\/([^/]+)(\/identify)?$/.exec(path);
    if (!m) return send(res, 404, { error: { code: "not_found", message: "no route" } });
    const k = `${m[1]}/${m[2]}`;
    if (m[3]) {
      if (req.method !== "POST") return send(res, 405, {});
      const form = new URLSearchParams(body);
      const callerNumber = form.get("callerNumber");
      if (callerNumber !== null && !form.has("idContact")) {
        if (!edge.nodes.has(k) && !edge.identify.has(k)) return send(res, 404, { error: { code: "not_found", message: "no node" } });
        const c = edge.callers.get(callerNumber);
        const reply = c === undefined ? { status: "ok", destination: "false" } : c === "ambiguous" ? { status: "fail", destination: "false" } : { status: "ok", destination: c.destination ?? "true", idContact: c.idContact };
        // As the edge does: why a number named nobody.
        if (c === "ambiguous") res.setHeader("x-bridge-reason", "ambiguous");
        return answer(res, { reply, delayMs: edge.callerDelayMs }, callerNumber);
      }
      const b = edge.identify.get(k);
      if (!b) return send(res, 404, { error: { code: "not_found", message: "no node" } });
      return answer(res, b, form.get("idContact") ?? "");
    }
    const n = edge.nodes.get(k);
    if (edge.nodeDelayMs > 0) await new Promise((r) => setTimeout(r, edge.nodeDelayMs));
    return n ? send(res, 200, { tenant: m[1], ...n }) : send(res, 404, { error: { code: "not_found", message: "no node" } });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  edge.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return edge;
}

/** A port on which nothing listens: connection refused. */
export async function refusedUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}
