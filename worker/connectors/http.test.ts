import { afterEach, describe, expect, it, vi } from "vitest";
import { CrmError } from "./errors.js";
import { crmFetch } from "./http.js";

// Deployed workers refuse private URLs, but tests reach their fake CRMs on 127.0.0.1 only with
// that rule lifted. To check the rule itself on redirects, the first hop is a public-looking
// host whose answer is a stub: the redirect logic under test is ours, not the network's.
const opts = () => ({ signal: AbortSignal.timeout(1000), allowPrivate: false, maxBytes: 1024 });

describe("crmFetch redirects (deployed rules: no private addresses)", () => {
  afterEach(() => vi.restoreAllMocks());

  for (const location of ["http://169.254.169.254/latest/meta-data/", "https://10.0.0.5/", "https://[::1]/x", "https://localhost/admin", "http://crm.example.com/plain-http"]) {
    it(`refuses a redirect to ${location}`, async () => {
      const fetchSpy = vi.spyOn(globalThis, "fetch").mockResolvedValue(new Response(null, { status: 302, headers: { location } }));
      const err = await crmFetch("https://crm.example.com/lookup", { method: "GET" }, opts()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CrmError);
      expect((err as CrmError).code).toBe("url_not_allowed");
      expect(fetchSpy).toHaveBeenCalledTimes(1);
    });
  }

  it("refuses a redirect to another public host (credentials must not follow) and stops after 3 hops", async () => {
    vi.spyOn(globalThis, "fetch").mockResolvedValue(new Response(null, { status: 301, headers: { location: "https://evil.example.net/" } }));
    expect(((await crmFetch("https://crm.example.com/", { method: "GET" }, opts()).catch((e: unknown) => e)) as CrmError).code).toBe("crm_redirect");
    const loop = vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response(null, { status: 302, headers: { location: "/again" } }));
    loop.mockClear();
    expect(((await crmFetch("https://crm.example.com/", { method: "GET" }, opts()).catch((e: unknown) => e)) as CrmError).code).toBe("crm_redirect");
    expect(loop).toHaveBeenCalledTimes(4);
  });

  it("never fetches a private first hop", async () => {
    const fetchSpy = vi.spyOn(globalThis, "fetch");
    expect(((await crmFetch("https://192.168.1.10/", { method: "GET" }, opts()).catch((e: unknown) => e)) as CrmError).code).toBe("url_not_allowed");
    expect(fetchSpy).not.toHaveBeenCalled();
  });
});

describe("Basic auth", () => {
  it("encodes credentials as UTF-8, where btoa would throw", async () => {
    const { authHeaders, basicAuth } = await import("./http.js");
    const expected = "Basic am9zw6k6Y29udHJhc2XDsWHigqw=";
    expect(basicAuth("josé", "contraseña€")).toBe(expected);
    expect(authHeaders({ type: "basic", username: "josé", password: "contraseña€" })).toEqual({ Authorization: expected });
  });
});
