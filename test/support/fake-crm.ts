import { customerFor } from "./fake-crms/common.js";
import { E164_PATTERN } from "../../shared/phone.js";
import { nationalOf, phoneMatches } from "./fake-crms/phone-book.js";
import { listenLoopback } from "./loopback.js";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { deflateSync, gzipSync } from "node:zlib";

/**
 * A CRM on 127.0.0.1 whose behaviour is chosen by the URL, so tests running in parallel
 * (in workerd or Node) share one server without stepping on each other:
 *   /u/<unique>/contract/<scenario>   the OMniLeads contract (POST idContact=…)
 *   /u/<unique>/rest/<scenario>/<id>  a JSON API returning a record
 *   /u/<unique>/rest/phone-book/<id>?phone=<E.164>   a customer API over the fake CRMs' phone book
 *   /u/<unique>/contract/phone-book   the contract, plus callerNumber looked up in the phone book
 *   /u/<unique>/echo/<id>/…           any CRM kind, whose record echoes the request (see echo)
 * It counts calls per path and keeps the last request, readable at /_calls?path=…
 */
export interface FakeCrm {
  url: string;
  port: number;
  close(): Promise<void>;
}

type Seen = { count: number; last?: { method: string; headers: Record<string, string | string[] | undefined>; body: string } };

function send(res: ServerResponse, status: number, body: unknown, type = "application/json") {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  let s = "";
  for await (const chunk of req) s += chunk;
  return s;
}

/** Scenario grammar: "true" | "false" | "dest-X-Y" | "fail" | "http-NNN" | "hang" | "slow-MS-<scenario>" | "garbage" | "huge" | "huge-declared" | "shape" | "by-id" | "redirect-private" | "redirect-scheme" */
async function contract(scenario: string, idContact: string, res: ServerResponse): Promise<void> {
  const slow = /^slow-(\d+)-(.+)$/.exec(scenario);
  if (slow) {
    await new Promise((r) => setTimeout(r, Number(slow[1])));
    return contract(slow[2]!, idContact, res);
  }
  const dest = /^dest-(\d+)-(\d+)$/.exec(scenario);
  if (dest) return send(res, 200, { status: "ok", destination: `${dest[1]},${dest[2]}` });
  const http = /^http-(\d{3})$/.exec(scenario);
  if (http) return send(res, Number(http[1]), { error: "CRM says no" });
  switch (scenario) {
    case "true":
    case "false":
      return send(res, 200, { status: "ok", destination: scenario });
    case "fail":
      return send(res, 200, { status: "fail", destination: "false" });
    case "by-id":
      // Even last digit: known customer; odd: unknown; 7: route to campaign 3,7.
      return send(res, 200, { status: "ok", destination: idContact.endsWith("7") ? "3,7" : Number(idContact.at(-1)) % 2 === 0 ? "true" : "false" });
    case "hang":
      return; // never answers
    case "garbage":
      return send(res, 200, "<html>oops</html>", "text/html");
    case "shape":
      return send(res, 200, { status: "ok", destination: 42 });
    case "huge": {
      res.writeHead(200, { "content-type": "application/json" });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let sent = 0;
      const pump = () => {
        while (sent < 10 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once("drain", pump);
        }
        res.end('{"status":"ok","destination":"true"}');
      };
      res.on("error", () => undefined);
      return pump();
    }
    case "huge-declared":
      res.writeHead(200, { "content-type": "application/json", "content-length": String(10 * 1024 * 1024) });
      res.on("error", () => undefined);
      return void res.write("{");
    case "redirect-private":
      res.writeHead(302, { location: "http://169.254.169.254/latest/meta-data/" });
      return void res.end();
    default:
      return send(res, 400, { error: `unknown scenario ${scenario}` });
  }
}

/**
/**
 * A valid record padded to `size` bytes, sent in two halves 300 ms apart so that a burst of
 * them is in flight at once (what the edge's per-isolate reply budget is for).
 */
function sendBig(res: ServerResponse, id: string, size: number): void {
  const head = `{"data":{"customer":{"id":"${id}","plan":"gold","pad":"`;
  const tail = '"}}}';
  const body = Buffer.from(head + "x".repeat(Math.max(0, size - head.length - tail.length)) + tail);
  res.writeHead(200, { "content-type": "application/json" });
  res.on("error", () => undefined);
  const half = Math.floor(body.length / 2);
  res.write(body.subarray(0, half));
  setTimeout(() => res.end(body.subarray(half)), 300);
}

/**
 * rest scenarios: "big-<KiB>" (a found record of that size, sent slowly), "found" (plan from the id: ending 0–4 gold, else bronze),
 * "several", "notfound" (404), "empty" (null record), "long" (1000- and 5000-character fields on which backtracking regexes
 * blow up), "http-NNN", "garbage", "hang", "gzip-bomb-<MiB>" / "deflate-bomb-<MiB>" (a compressed reply decoding to that many MiB).
 */
const bombs = new Map<string, Buffer>();
/** A small compressed reply that decodes to `bytes` of zeros: a decompression bomb, declared with its compressed length. */
function sendBomb(res: ServerResponse, encoding: "gzip" | "deflate", bytes: number): void {
  const key = `${encoding}-${bytes}`;
  let body = bombs.get(key);
  if (!body) {
    const zeros = Buffer.alloc(bytes);
    body = encoding === "gzip" ? gzipSync(zeros, { level: 9 }) : deflateSync(zeros, { level: 9 });
    bombs.set(key, body);
  }
  res.writeHead(200, { "content-type": "application/json", "content-encoding": encoding, "content-length": body.length });
  res.end(body);
}

function rest(scenario: string, id: string, res: ServerResponse): void {
  const http = /^http-(\d{3})$/.exec(scenario);
  if (http) return send(res, Number(http[1]), { error: "no" });
  const big = /^big-(\d+)$/.exec(scenario);
  if (big) return sendBig(res, id, Number(big[1]) * 1024);
  const bomb = /^(gzip|deflate)-bomb-(\d+)$/.exec(scenario);
  if (bomb) return sendBomb(res, bomb[1] as "gzip" | "deflate", Number(bomb[2]) * 1024 * 1024);
  const plan = Number(id.at(-1)) <= 4 ? "gold" : "bronze";
  switch (scenario) {
    case "found":
      return send(res, 200, { data: { customer: { id, plan, balance: Number(id.at(-1)) * 10, tags: ["vip"] } } });
    case "long": {
      const n = 5000;
      return send(res, 200, { data: { customer: { id, b: "B-" + "1".repeat(n), one: "1".repeat(n), a: "a".repeat(n), bang: "a".repeat(999) + "!", y: "y".repeat(n) } } });
    }
    case "several":
      return send(res, 200, { data: { customer: [{ id, plan: "gold" }, { id, plan: "bronze" }] } });
    case "notfound":
      return send(res, 404, { error: "not found" });
    case "empty":
      return send(res, 200, { data: { customer: null } });
    case "garbage":
      return send(res, 200, "not json", "text/plain");
    case "hang":
      return;
    default:
      return send(res, 400, { error: `unknown scenario ${scenario}` });
  }
}

/**
 * A CRM that hands back what it was sent: every reply is shaped to suit every connector kind
 * (the contract, a token endpoint, each CRM's search reply), and its record holds the request's
 * Authorization header, headers, body and query. Rules pointed at "auth" or "headers.x-api-key"
 * then read whatever the edge sent, as an attacker's server (or a careless CRM) would show it.
 */
function echo(req: IncomingMessage, url: URL, body: string, id: string, res: ServerResponse): void {
  const record = {
    id,
    auth: req.headers.authorization ?? "",
    headers: req.headers,
    // As Node has them: a list of names and values, so a record holds sent values inside a list too.
    rawHeaders: req.rawHeaders,
    body,
    query: Object.fromEntries(url.searchParams),
    // Pipedrive counts a person only when its own field holds the id.
    custom_fields: { cf: id },
  };
  if (url.pathname.endsWith("/api/v2/persons/search")) return send(res, 200, { data: { items: [{ item: { id: 1 } }] } });
  if (/\/api\/v2\/persons\/\d+$/.test(url.pathname)) return send(res, 200, { data: record });
  const one = { total: 1, totalSize: 1, count: 1, "@odata.count": 1, info: { count: 1 } };
  const lists = { results: [record], records: [record], users: [record], value: [record], data: [record] };
  const token = { access_token: `echo-token-${id}-${Math.random().toString(36).slice(2)}`, expires_in: 3600 };
  send(res, 200, { ...record, ...one, ...lists, ...token, status: "ok", destination: "true" });
}

/**
 * The phone book (fake-crms/phone-book.ts) behind a customer API that compares numbers as a
 * normalizing CRM does (national significant numbers), whatever form they were stored in. It
 * takes what crm-bridge promises a `rest` URL: `phone` in E.164 with `id` empty, or `id` with
 * `phone` empty; anything else is a 400, so a test sees the promise broken.
 */
function phoneBookRest(url: URL, id: string, res: ServerResponse): void {
  const phone = url.searchParams.get("phone") ?? "";
  if ((phone === "") === (id === "") || (phone !== "" && !E164_PATTERN.test(phone))) return send(res, 400, { error: `want phone (E.164) or id, got phone=${phone} id=${id}` });
  if (!phone) return send(res, 200, { customers: [customerFor(id)] });
  return send(res, 200, { customers: phoneMatches((stored) => nationalOf(stored) === nationalOf(phone)) });
}

/** The contract with the opt-in callerNumber: one customer named in idContact; unknown and shared numbers name nobody. */
function phoneBookContract(body: string, res: ServerResponse): void {
  const form = new URLSearchParams(body);
  const phone = form.get("callerNumber");
  if (phone === null) return void contract("by-id", form.get("idContact") ?? "", res);
  if (form.get("idContact") !== "" || !E164_PATTERN.test(phone)) return send(res, 400, { error: `want idContact= and an E.164 callerNumber, got ${body}` });
  const found = phoneMatches((stored) => nationalOf(stored) === nationalOf(phone));
  return send(res, 200, found.length === 1 ? { status: "ok", destination: "true", idContact: found[0]!.id } : { status: "ok", destination: "false" });
}

/**
 * "chaos": each call picks at random (seeded by the id, so a test can ask afterwards what was
 * answered) between a good answer (as by-id), a hang, a 500, garbage and a slow good answer.
 */
function chaosPick(idContact: string): "good" | "hang" | "http-500" | "garbage" | "slow" {
  let h = 2166136261;
  for (const ch of idContact) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  const r = h % 100;
  return r < 55 ? "good" : r < 65 ? "hang" : r < 77 ? "http-500" : r < 89 ? "garbage" : "slow";
}

/**
 * A CRM that enforces its own quota, as real ones do: "quota-N-MS-<scenario>" admits N calls per
 * sliding MS window per test prefix (/u/<unique>) and answers 429 with Retry-After past it.
 * /_quota?prefix=/u/<unique> tells how many it admitted, refused, and the most it saw in one window.
 */
type Quota = { at: number[]; admitted: number; throttled: number; maxInWindow: number };
function quotaGate(quotas: Map<string, Quota>, prefix: string, n: number, windowMs: number): boolean {
  const q = quotas.get(prefix) ?? { at: [], admitted: 0, throttled: 0, maxInWindow: 0 };
  quotas.set(prefix, q);
  const now = Date.now();
  q.at = q.at.filter((t) => t > now - windowMs);
  if (q.at.length >= n) {
    q.throttled++;
    return false;
  }
  q.at.push(now);
  q.admitted++;
  q.maxInWindow = Math.max(q.maxInWindow, q.at.length);
  return true;
}

export async function startFakeCrm(port = 0): Promise<FakeCrm> {
  const seen = new Map<string, Seen>();
  const quotas = new Map<string, Quota>();
  // While on, every CRM path answers 503: an outage, switched from tests with /_outage?on=1.
  let outage = false;
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/_outage") {
      outage = url.searchParams.get("on") === "1";
      return send(res, 200, { outage });
    }
    if (url.pathname === "/_chaos") return send(res, 200, { pick: chaosPick(url.searchParams.get("id") ?? "") });
    if (url.pathname === "/_quota") {
      const q = quotas.get(url.searchParams.get("prefix") ?? "") ?? { admitted: 0, throttled: 0, maxInWindow: 0 };
      return send(res, 200, { admitted: q.admitted, throttled: q.throttled, maxInWindow: q.maxInWindow });
    }
    if (url.pathname === "/_calls") {
      const s = seen.get(url.searchParams.get("path") ?? "") ?? { count: 0 };
      return send(res, 200, s);
    }
    const body = await readBody(req);
    const s = seen.get(url.pathname) ?? { count: 0 };
    s.count++;
    s.last = { method: req.method ?? "", headers: req.headers, body };
    seen.set(url.pathname, s);
    const e = /^(\/u\/[^/]+\/echo)\/(\d+)(\/.*)?$/.exec(url.pathname);
    if (e) {
      // Counted per prefix too: an echo CRM is one server, whatever paths a kind calls on it.
      const all = seen.get(e[1]!) ?? { count: 0 };
      all.count++;
      all.last = s.last;
      seen.set(e[1]!, all);
      return echo(req, url, body, e[2]!, res);
    }
    const m = /^\/u\/[^/]+\/(contract|rest)\/([^/]+)(?:\/([^/]*))?$/.exec(url.pathname);
    if (!m) return send(res, 404, { error: "no such path" });
    if (outage) return send(res, 503, { error: "CRM down" });
    const quota = /^quota-(\d+)-(\d+)-(.+)$/.exec(m[2]!);
    if (quota) {
      const prefix = url.pathname.split("/").slice(0, 3).join("/");
      if (!quotaGate(quotas, prefix, Number(quota[1]), Number(quota[2]))) {
        res.writeHead(429, { "content-type": "application/json", "retry-after": "1" });
        return void res.end('{"error":"too many requests"}');
      }
      m[2] = quota[3]!;
    }
    const retry = /^http-429-retry-(\d+)$/.exec(m[2]!);
    if (retry) {
      res.writeHead(429, { "content-type": "application/json", "retry-after": retry[1]! });
      return void res.end('{"error":"too many requests"}');
    }
    if (m[1] === "contract" && m[2] === "chaos") {
      const id = new URLSearchParams(body).get("idContact") ?? "";
      const pick = chaosPick(id);
      return contract(pick === "good" ? "by-id" : pick === "slow" ? "slow-300-by-id" : pick, id, res);
    }
    if (m[1] === "contract" && m[2] === "phone-book") return phoneBookContract(body, res);
    // The same host and port, as https: a redirect that changes only the scheme.
    if (m[1] === "contract" && m[2] === "redirect-scheme") {
      res.writeHead(302, { location: `https://${req.headers.host ?? ""}${url.pathname}` });
      return void res.end();
    }
    if (m[1] === "contract") return contract(m[2]!, new URLSearchParams(body).get("idContact") ?? "", res);
    if (m[2] === "phone-book") return phoneBookRest(url, decodeURIComponent(m[3] ?? ""), res);
    return rest(m[2]!, decodeURIComponent(m[3] ?? ""), res);
  });
  return listenLoopback(server, port);
}
