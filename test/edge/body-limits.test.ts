import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, crmPath, json, newTenant, putConnector, putNode } from "./helpers.js";

type Err = { error: { code: string } };
const worker = () => (exports as unknown as { default: Fetcher }).default;

/** Bytes sent chunked: a stream has no Content-Length, so only the reader's own count can stop it. */
function chunked(bytes: Uint8Array, chunk = 1024): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= bytes.byteLength) return c.close();
      c.enqueue(bytes.slice(at, at + chunk));
      at += chunk;
    },
  });
}

/** A multipart body as a browser or curl -F would send it, with its boundary. */
async function multipart(fields: Record<string, string>): Promise<{ type: string; bytes: Uint8Array }> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  const req = new Request("http://x/", { method: "POST", body: form });
  return { type: req.headers.get("content-type")!, bytes: new Uint8Array(await req.arrayBuffer()) };
}

const text = (s: string) => new TextEncoder().encode(s);

async function bodies(size: number, fields: Record<string, string>): Promise<Array<[string, string, Uint8Array]>> {
  const pad = "9".repeat(size);
  const mp = await multipart({ ...fields, pad });
  return [
    ["multipart", mp.type, mp.bytes],
    ["form", "application/x-www-form-urlencoded", text(`${new URLSearchParams(fields)}&pad=${pad}`)],
    ["json", "application/json", text(JSON.stringify({ ...fields, pad }))],
    ["text", "text/plain", text(`${new URLSearchParams(fields)}&pad=${pad}`)],
  ];
}

describe("every request body is capped whatever its encoding (issue 9.5)", () => {
  it("identify: chunked multipart, form, JSON and text bodies over 8 KiB are 413, just under still answer", async () => {
    const t = await newTenant();
    await putConnector(t, "crm", { kind: "webhook", url: crmPath("contract", "true") });
    await putNode(t, "n", { interaction: "crm_true_false", connector: "crm" });
    const post = (type: string, body: BodyInit) =>
      worker().fetch(`http://edge.test/v1/tenants/${t.id}/nodes/n/identify`, { method: "POST", headers: { authorization: `Bearer ${t.agent}`, "content-type": type }, body });
    // 20 KiB: over identify's 8 KiB, under every other cap, so only identify's own reader can refuse it.
    for (const [name, type, bytes] of await bodies(20_000, { idContact: "12345" })) {
      const res = await post(type, chunked(bytes));
      expect(res.status, name).toBe(413);
      expect((await json<Err>(res)).error.code, name).toBe("body_too_large");
    }
    for (const [name, type, bytes] of await bodies(7_000, { idContact: "12345" })) {
      const res = await post(type, chunked(bytes));
      expect(res.status, name).toBe(200);
      expect(await res.json(), name).toEqual({ status: "ok", destination: "true" });
    }
  });

  it("identify: a gzip or deflate Content-Encoding is not inflated (a 2 MB form in 2 KB is no bomb), and a Content-Length that lies low does not lift the cap", async () => {
    const t = await newTenant();
    await putConnector(t, "crm", { kind: "webhook", url: crmPath("contract", "true") });
    await putNode(t, "n", { interaction: "crm_true_false", connector: "crm" });
    const post = (headers: Record<string, string>, body: BodyInit) =>
      worker().fetch(`http://edge.test/v1/tenants/${t.id}/nodes/n/identify`, { method: "POST", headers: { authorization: `Bearer ${t.agent}`, "content-type": "application/x-www-form-urlencoded", ...headers }, body });
    for (const format of ["gzip", "deflate"] as const) {
      const form = `idContact=12345&pad=${"9".repeat(2_000_000)}`;
      const bytes = new Uint8Array(await new Response(new Blob([form]).stream().pipeThrough(new CompressionStream(format))).arrayBuffer());
      expect(bytes.byteLength).toBeLessThan(8192);
      const res = await post({ "content-encoding": format }, bytes);
      // Read as the bytes that came (compressed, so no idContact in them), never as the 2 MB they inflate to.
      expect(res.status, format).toBe(400);
      expect((await json<Err>(res)).error.code, format).toBe("missing_id_contact");
    }
    const lying = await post({ "content-length": "10" }, `idContact=12345&pad=${"9".repeat(20_000)}`);
    expect(lying.status).toBe(413);
  });

  it("admin API: a chunked JSON body over 64 KiB is 413 and nothing is stored", async () => {
    const t = await newTenant();
    const big = text(JSON.stringify({ kind: "webhook", url: "https://crm.example.com/x", pad: "x".repeat(70_000) }));
    const res = await worker().fetch(`http://edge.test/v1/tenants/${t.id}/connectors/big`, {
      method: "PUT",
      headers: { authorization: `Bearer ${t.admin}`, "content-type": "application/json" },
      body: chunked(big),
    });
    expect(res.status).toBe(413);
    expect((await json<Err>(res)).error.code).toBe("body_too_large");
    expect((await call("GET", `/v1/tenants/${t.id}/connectors/big`, { token: t.admin })).status).toBe(404);
  });

  it("UI: chunked form and multipart posts over 256 KiB are 413, signed in or not", async () => {
    const t = await newTenant();
    const login = await worker().fetch("http://edge.test/ui/login", { redirect: "manual" });
    const cookies = login.headers.getAll("set-cookie").map((c) => c.split(";")[0]!);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await login.text())![1]!;
    const signIn = await worker().fetch("http://edge.test/ui/login", {
      method: "POST",
      redirect: "manual",
      headers: { cookie: cookies.join("; "), "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ _csrf: csrf, key: t.admin }).toString(),
    });
    expect(signIn.status).toBe(303);
    const session = [...cookies, ...signIn.headers.getAll("set-cookie").map((c) => c.split(";")[0]!)].join("; ");
    const page = await worker().fetch("http://edge.test/ui/nodes/new", { headers: { cookie: session } });
    const pageCsrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!;

    for (const [path, fields] of [
      ["/ui/login", { _csrf: csrf, key: t.admin }],
      ["/ui/nodes/new", { _csrf: pageCsrf, name: "n" }],
    ] as const) {
      for (const [name, type, bytes] of (await bodies(300_000, fields)).filter(([n]) => n === "multipart" || n === "form")) {
        const res = await worker().fetch(`http://edge.test${path}`, { method: "POST", redirect: "manual", headers: { cookie: session, "content-type": type }, body: chunked(bytes, 16 * 1024) });
        expect(res.status, `${path} ${name}`).toBe(413);
      }
    }
  });
});
