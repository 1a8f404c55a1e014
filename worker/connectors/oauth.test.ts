import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CrmError } from "./errors.js";
import { forgetTokens, withAccessToken, type OAuthGrant } from "./oauth.js";
import type { LookupContext } from "./types.js";

const grant: OAuthGrant = { tokenUrl: "https://login.example.com/token", clientId: "client", clientSecret: "s3cret-value", refreshToken: "r3fresh-value" };
const ctx = (connectorId = "c1", tenant = "t1"): LookupContext => ({ tenant, connectorId, customerId: "1", http: { signal: new AbortController().signal, allowPrivate: false } });
const okReply = (status = 200) => Promise.resolve({ status, headers: new Headers(), text: "{}" });

let issued = 0;
let tokenAnswer: () => Response;
let fetchSpy: ReturnType<typeof vi.spyOn<typeof globalThis, "fetch">>;

beforeEach(() => {
  forgetTokens();
  issued = 0;
  tokenAnswer = () => Response.json({ access_token: `tok-${++issued}`, expires_in: 600 });
  fetchSpy = vi.spyOn(globalThis, "fetch").mockImplementation(async () => tokenAnswer());
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe("OAuth access tokens", () => {
  it("posts the documented form: refresh_token grant when a refresh token is configured, client_credentials otherwise", async () => {
    await withAccessToken(ctx(), grant, { defaultTtlSeconds: 60 }, () => okReply());
    await withAccessToken(ctx("c2"), { ...grant, refreshToken: undefined, scope: "https://org/.default" }, { defaultTtlSeconds: 60 }, () => okReply());
    const [first, second] = fetchSpy.mock.calls.map((c) => new URLSearchParams(String((c[1] as RequestInit).body)));
    expect(Object.fromEntries(first!)).toEqual({ grant_type: "refresh_token", client_id: "client", client_secret: "s3cret-value", refresh_token: "r3fresh-value" });
    expect(Object.fromEntries(second!)).toEqual({ grant_type: "client_credentials", client_id: "client", client_secret: "s3cret-value", scope: "https://org/.default" });
  });

  it("Pipedrive's client goes in an Authorization: Basic header, not in the form", async () => {
    await withAccessToken(ctx(), { ...grant, clientAuth: "basic" }, { defaultTtlSeconds: 60 }, () => okReply());
    const init = fetchSpy.mock.calls[0]![1] as RequestInit;
    expect((init.headers as Record<string, string>).Authorization).toBe(`Basic ${btoa("client:s3cret-value")}`);
    expect(Object.fromEntries(new URLSearchParams(String(init.body)))).toEqual({ grant_type: "refresh_token", refresh_token: "r3fresh-value" });
  });

  it("is cached per tenant + connector + credentials until shortly before expires_in", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const seen: string[] = [];
    const use = (c: LookupContext, g = grant) => withAccessToken(c, g, { defaultTtlSeconds: 60 }, (t) => (seen.push(t), okReply()));
    await use(ctx());
    await use(ctx());
    expect(issued).toBe(1);
    await use(ctx("other-connector"));
    await use(ctx("c1", "other-tenant"));
    await use(ctx(), { ...grant, clientSecret: "rotated" });
    expect(issued).toBe(4);
    vi.setSystemTime(Date.now() + 539_000);
    await use(ctx());
    expect(issued).toBe(4);
    // 600 s minus a 60 s margin: renewed before the CRM would refuse it.
    vi.setSystemTime(Date.now() + 2_000);
    await use(ctx());
    expect(issued).toBe(5);
    expect(seen.at(-1)).toBe("tok-5");
  });

  it("assumes defaultTtlSeconds when the endpoint sends no expires_in (Salesforce)", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    tokenAnswer = () => Response.json({ access_token: `tok-${++issued}`, token_type: "Bearer", instance_url: "https://x" });
    const use = () => withAccessToken(ctx(), grant, { defaultTtlSeconds: 900 }, () => okReply());
    await use();
    vi.setSystemTime(Date.now() + 800_000);
    await use();
    expect(issued).toBe(1);
    // 900 s minus the 60 s margin.
    vi.setSystemTime(Date.now() + 41_000);
    await use();
    expect(issued).toBe(2);
  });

  it("is fetched once for any number of concurrent lookups", async () => {
    tokenAnswer = () => Response.json({ access_token: `tok-${++issued}`, expires_in: 600 });
    await Promise.all(Array.from({ length: 20 }, () => withAccessToken(ctx(), grant, { defaultTtlSeconds: 60 }, () => okReply())));
    expect(fetchSpy).toHaveBeenCalledTimes(1);
  });

  it("one caller's short deadline does not fail the others waiting on the same token request", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    fetchSpy.mockImplementation(async () => {
      await gate;
      return Response.json({ access_token: `tok-${++issued}`, expires_in: 600 });
    });
    const hurried = new AbortController();
    const first = withAccessToken({ ...ctx(), http: { signal: hurried.signal, allowPrivate: false } }, grant, { defaultTtlSeconds: 60 }, () => okReply());
    const second = withAccessToken(ctx(), grant, { defaultTtlSeconds: 60 }, () => okReply());
    hurried.abort();
    await expect(first).rejects.toMatchObject({ code: "crm_timeout" });
    release();
    await expect(second).resolves.toMatchObject({ status: 200 });
    expect(fetchSpy).toHaveBeenCalledTimes(1);
  });

  it("on 401/403 drops the token, fetches a new one and retries exactly once", async () => {
    const used: string[] = [];
    const reply = await withAccessToken(ctx(), grant, { defaultTtlSeconds: 60 }, (t) => (used.push(t), okReply(401)));
    expect(reply.status).toBe(401);
    expect(used).toEqual(["tok-1", "tok-2"]);
  });

  it("a throttled 403 (Salesforce REQUEST_LIMIT_EXCEEDED) keeps the token and is not retried", async () => {
    const used: string[] = [];
    const throttled = { status: 403, headers: new Headers(), text: '[{"message":"ConcurrentRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]' };
    const reply = await withAccessToken(ctx(), grant, { defaultTtlSeconds: 60 }, (t) => (used.push(t), Promise.resolve(throttled)));
    expect(reply.status).toBe(403);
    expect(used).toEqual(["tok-1"]);
    await withAccessToken(ctx(), grant, { defaultTtlSeconds: 60 }, (t) => (used.push(t), okReply()));
    expect(used).toEqual(["tok-1", "tok-1"]);
  });

  it("a failed token request is not cached, and its error never carries a credential", async () => {
    for (const [answer, code] of [
      [() => Response.json({ error: "invalid_grant" }, { status: 400 }), "crm_auth"],
      [() => Response.json({ error: "invalid_code" }), "crm_auth"],
      [() => new Response("oops", { status: 502 }), "crm_http_502"],
      [() => new Response("<html>", { status: 200 }), "crm_bad_reply"],
    ] as const) {
      tokenAnswer = answer;
      const err = await withAccessToken(ctx(), grant, { defaultTtlSeconds: 60 }, () => okReply()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CrmError);
      expect((err as CrmError).code).toBe(code);
      expect(JSON.stringify({ m: (err as Error).message, s: (err as Error).stack })).not.toMatch(/s3cret|r3fresh/);
    }
    expect(fetchSpy).toHaveBeenCalledTimes(4);
  });
});
