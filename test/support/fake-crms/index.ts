import { listenLoopback } from "../loopback.js";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Answer, Ctx, FakeKind, FakeRequest, Log, Scenario } from "./common.js";
import { dynamics365Fake, throttled as dynamics365Throttled } from "./dynamics365.js";
import { freshdeskFake, throttled as freshdeskThrottled } from "./freshdesk.js";
import { hubspotFake, throttled as hubspotThrottled } from "./hubspot.js";
import { pipedriveFake, throttled as pipedriveThrottled } from "./pipedrive.js";
import { salesforceFake, throttled as salesforceThrottled } from "./salesforce.js";
import { zendeskFake, throttled as zendeskThrottled } from "./zendesk.js";
import { zohoFake, throttled as zohoThrottled } from "./zoho.js";

/**
 * Fake CRMs on 127.0.0.1, one HTTP server for all of them. A test picks a CRM and a scenario
 * by the base URL it configures: /u/<unique>/<kind>/<scenario>, after which each fake serves
 * the paths its CRM documents. Everything a unique prefix received is readable at
 * /_log?u=<unique>: the requests, the ids decoded out of the queries, and every way a
 * request differed from the CRM's documentation (violations).
 */
export const fakeKinds: Record<string, FakeKind> = {
  hubspot: hubspotFake,
  salesforce: salesforceFake,
  zoho: zohoFake,
  pipedrive: pipedriveFake,
  zendesk: zendeskFake,
  freshdesk: freshdeskFake,
  dynamics365: dynamics365Fake,
};

/** Each CRM's own way of saying "too many requests", served in the ratelimit scenario. */
const throttledReplies: Record<string, () => Answer> = {
  hubspot: hubspotThrottled,
  salesforce: salesforceThrottled,
  zoho: zohoThrottled,
  pipedrive: pipedriveThrottled,
  zendesk: zendeskThrottled,
  freshdesk: freshdeskThrottled,
  dynamics365: dynamics365Throttled,
};

const SCENARIOS = new Set<Scenario>(["found", "several", "notfound", "auth", "expired", "ratelimit", "garbage", "badshape", "gone", "hang"]);

export interface FakeCrms {
  url: string;
  close(): Promise<void>;
}

const emptyLog = (): Log => ({ requests: [], violations: [], decoded: [], tokenCalls: 0, dataCalls: 0, issued: [] });

async function readBody(req: IncomingMessage): Promise<string> {
  let s = "";
  for await (const chunk of req) s += chunk;
  return s;
}

function send(res: ServerResponse, answer: Exclude<Answer, "hang">) {
  const headers: Record<string, string> = { ...answer.headers };
  if (answer.body === undefined) {
    res.writeHead(answer.status, headers);
    return void res.end();
  }
  const text = typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body);
  headers["content-type"] ??= answer.type ?? "application/json; charset=utf-8";
  headers["content-length"] = String(Buffer.byteLength(text));
  res.writeHead(answer.status, headers);
  res.end(text);
}

export async function startFakeCrms(port = 0): Promise<FakeCrms> {
  const logs = new Map<string, Log>();
  const rateLimited = new Set<string>();
  let tokenSeq = 0;

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/_log") return send(res, { status: 200, body: logs.get(url.searchParams.get("u") ?? "") ?? emptyLog() });
    const body = await readBody(req);
    const m = /^\/u\/([^/]+)\/([a-z0-9]+)\/([a-z]+)(\/.*)?$/.exec(url.pathname);
    if (!m) return send(res, { status: 404, body: { error: "no such fake" } });
    const [, unique, kind, scenario] = m as unknown as [string, string, string, Scenario];
    const fake = fakeKinds[kind];
    if (!fake || !SCENARIOS.has(scenario)) return send(res, { status: 404, body: { error: `unknown fake ${kind}/${scenario}` } });
    const log = logs.get(unique) ?? emptyLog();
    logs.set(unique, log);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
    const request: FakeRequest = { method: req.method ?? "", path: m[4] ?? "/", query: url.searchParams, headers, body };
    log.requests.push({ method: request.method, path: request.path, query: Object.fromEntries(url.searchParams), headers, body });

    const ctx: Ctx = {
      scenario,
      log,
      violation: (message) => void log.violations.push(`${request.method} ${request.path}: ${message}`),
      disturbance: () => {
        switch (scenario) {
          case "garbage":
            return { status: 200, body: "<html><body>Service temporarily unavailable</body></html>", type: "text/html" };
          case "badshape":
            return { status: 200, body: { unexpected: true } };
          case "gone":
            return { status: 404, body: { message: "Not Found" } };
          case "hang":
            return "hang";
          case "ratelimit":
            // Only the first data call is refused, the way this CRM refuses: after the pause it
            // asks for (or the worker's default) the CRM answers again.
            if (rateLimited.has(unique)) return null;
            rateLimited.add(unique);
            return throttledReplies[kind]!();
          default:
            return null;
        }
      },
      issueToken: () => {
        const t = `fake-access-${++tokenSeq}-${unique.slice(0, 8)}`;
        log.issued.push(t);
        return t;
      },
      tokenAccepted: (token) => token !== undefined && log.issued.includes(token) && !(scenario === "expired" && token === log.issued[0]),
    };
    const answer = fake(request, ctx);
    if (answer === "hang") return;
    send(res, answer);
  });
  return listenLoopback(server, port);
}
