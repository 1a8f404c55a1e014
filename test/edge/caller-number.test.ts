import { afterEach, describe, expect, inject, it, vi } from "vitest";
import type { Log } from "../support/fake-crms/common.js";
import { crmFixtures } from "../support/fake-crms/fixtures.js";
import { CALLERS } from "../support/fake-crms/phone-book.js";
import { call, crmCalls, crmPath, json, newTenant, OPERATOR, putConnector, putNode, waitForDecisions } from "./helpers.js";

type CallerKey = keyof typeof CALLERS;

afterEach(() => vi.restoreAllMocks());

function fake(kind: string) {
  const root = inject("crmsUrl");
  const unique = crypto.randomUUID();
  return { base: `${root}/u/${unique}/${kind}/found`, log: async () => (await (await fetch(`${root}/_log?u=${unique}`)).json()) as Log };
}

/** Identify by caller number, as the agent sends it: the form body with callerNumber. */
function byNumber(t: { id: string; agent: string }, node: string, callerNumber: string, idContact?: string) {
  const form = new URLSearchParams({ callerNumber, ...(idContact !== undefined ? { idContact } : {}) });
  return call("POST", `/v1/tenants/${t.id}/nodes/${node}/identify`, { token: t.agent, raw: form.toString(), headers: { "content-type": "application/x-www-form-urlencoded" } });
}

const mode2 = (planPath: string) => ({
  rules: [
    { when: { path: planPath, op: "eq", value: "gold" }, destination: "1,3" },
    { when: { path: planPath, op: "eq", value: "bronze" }, destination: "1,4" },
  ],
  default: "true",
  notFound: "false",
});

/**
 * Which stored forms each CRM's documented phone search finds (test/support/fake-crms/phone-book.ts):
 * the forgiving searches (HubSpot's calculated property, SOSL phone fields, Zendesk's `phone:*`)
 * find every form; Zoho compares digits (international forms only); Freshdesk and Dynamics
 * compare the stored text (unformatted forms only); Pipedrive's exact match needs E.164.
 */
const ALL: CallerKey[] = ["intlSpaced", "nationalSpaced", "intlDashedMobile", "bracketed", "e164", "intlDigitsMobile", "nationalDigits"];
const FINDS: Record<string, CallerKey[]> = {
  hubspot: ALL,
  salesforce: ALL,
  zendesk: ["intlSpaced", "nationalSpaced", "bracketed", "e164", "nationalDigits"], // one phone field per user: no mobile
  zoho: ["intlSpaced", "intlDashedMobile", "bracketed", "e164", "intlDigitsMobile"],
  freshdesk: ["e164", "intlDigitsMobile", "nationalDigits"],
  dynamics365: ["e164", "intlDigitsMobile", "nationalDigits"],
  pipedrive: ["e164"],
};
const IDS: Record<CallerKey, string> = {
  intlSpaced: "700001",
  nationalSpaced: "700002",
  intlDashedMobile: "700003",
  bracketed: "700004",
  e164: "700005",
  intlDigitsMobile: "700006",
  nationalDigits: "700007",
  shared: "",
  unknown: "",
  abroad: "",
};

describe("phone lookup contract, every CRM kind against its fake", () => {
  for (const [kind, finds] of Object.entries(FINDS)) {
    const fx = crmFixtures[kind]!;
    it(`${kind}: finds the stored forms its search matches, names the customer, and never guesses`, async () => {
      const t = await newTenant(kind.slice(0, 6));
      const f = fake(kind);
      // Sixteen lookups back to back: above the smallest plans' quotas (Pipedrive 10 per 2 s), which is not what this test is about.
      await putConnector(t, "crm", { ...fx.config(f.base), ...mode2(fx.planPath), quota: { requests: 1000, perSeconds: 1 } });
      await putNode(t, "n", { interaction: "crm_destination", connector: "crm", identifyBy: "caller_number", defaultCountry: "ES" });
      for (const key of ALL) {
        const res = await byNumber(t, "n", CALLERS[key]);
        const body = await json(res);
        if (finds.includes(key)) {
          // 70000[1-4] end in a digit <= 4: gold; the rest bronze (customerFor).
          const gold = Number(IDS[key].at(-1)) <= 4;
          expect(body, `${kind} ${key}`).toEqual({ status: "ok", destination: gold ? "1,3" : "1,4", idContact: IDS[key] });
        } else {
          expect(body, `${kind} ${key}`).toEqual({ status: "fail", destination: "false" });
          expect(res.headers.get("x-bridge-reason")).toBe("caller_number_not_found");
        }
      }
      const shared = await byNumber(t, "n", CALLERS.shared);
      expect(await json(shared)).toEqual({ status: "fail", destination: "false" });
      expect(shared.headers.get("x-bridge-reason")).toBe("ambiguous");
      const unknown = await byNumber(t, "n", CALLERS.unknown);
      expect(unknown.headers.get("x-bridge-reason")).toBe("caller_number_not_found");
      // Another country's number with the caller's national digits is not the caller: never that customer.
      const abroad = await byNumber(t, "n", CALLERS.abroad);
      expect(await json(abroad), `${kind} abroad`).toEqual({ status: "fail", destination: "false" });
      expect(abroad.headers.get("x-bridge-reason"), `${kind} abroad`).toBe("caller_number_not_found");
      const log = await f.log();
      expect(log.violations).toEqual([]);
      // The number went to the CRM in a form of the caller's number, never anything else.
      for (const v of log.decoded) expect(CALLERS.intlSpaced + CALLERS.unknown + Object.values(CALLERS).join(" ")).toContain(v.replace(/^\+/, ""));
    });
  }
});

/** What a PBX may hand over for the caller of "+34 911 23 45 67", on a node whose country is ES. */
const PBX_FORMS = ["+34911234567", "911 23 45 67", "911234567", "0034 911 23 45 67", "+34 (911) 23-45-67", "tel:+34911234567", "sip:+34911234567@pbx.example"];

describe("phone lookup contract, rest and webhook against the phone book", () => {
  const STORED: CallerKey[] = [...ALL];
  // Every lookup reaches the CRM: what it receives is the point.
  const noCache = { cache: { ttlSeconds: 0, negativeTtlSeconds: 0, staleIfErrorSeconds: 0 } };

  it("rest with {idContact} and {callerNumber}: every stored form found by its E.164 caller, shared numbers ambiguous, the typed id fills only {idContact}", async () => {
    const t = await newTenant("cnrest");
    const base = crmPath("rest", "phone-book");
    // The fake answers 400 unless exactly one of phone (E.164) and id arrives: the placeholder not looked up is "".
    await putConnector(t, "crm", { kind: "rest", url: `${base}/{idContact}?phone={callerNumber}`, recordPath: "customers", idPath: "id", ...mode2("plan"), ...noCache });
    await putNode(t, "n", { interaction: "crm_destination", connector: "crm", identifyBy: "caller_number_then_dtmf", defaultCountry: "ES" });
    for (const key of STORED) {
      const gold = Number(IDS[key].at(-1)) <= 4;
      expect(await json(await byNumber(t, "n", CALLERS[key])), key).toEqual({ status: "ok", destination: gold ? "1,3" : "1,4", idContact: IDS[key] });
    }
    for (const form of PBX_FORMS) expect(await json(await byNumber(t, "n", form)), form).toEqual({ status: "ok", destination: "1,3", idContact: "700001" });
    const shared = await byNumber(t, "n", CALLERS.shared);
    expect(shared.headers.get("x-bridge-reason")).toBe("ambiguous");
    expect((await byNumber(t, "n", CALLERS.unknown)).headers.get("x-bridge-reason")).toBe("caller_number_not_found");
    // Ambiguous, then the typed id: the same URL with {callerNumber} empty.
    expect(await json(await byNumber(t, "n", CALLERS.shared, "12345"))).toEqual({ status: "ok", destination: "1,4" });
    expect((await crmCalls(`${base}/12345`)).count).toBe(1);
    // Each PBX form, each stored form, the shared and unknown numbers: one call each, all on the number path.
    expect((await crmCalls(`${base}/`)).count).toBe(STORED.length + PBX_FORMS.length + 3);
  });

  it("webhook with sendCallerNumber: the E.164 number in the contract form, every stored form found, a shared number names nobody", async () => {
    const t = await newTenant("cnwh");
    const url = crmPath("contract", "phone-book");
    await putConnector(t, "wh", { kind: "webhook", url, sendCallerNumber: true, ...noCache });
    await putNode(t, "n", { interaction: "crm_true_false", connector: "wh", identifyBy: "caller_number", defaultCountry: "ES" });
    for (const key of STORED) expect(await json(await byNumber(t, "n", CALLERS[key])), key).toEqual({ status: "ok", destination: "true", idContact: IDS[key] });
    for (const form of PBX_FORMS) {
      expect(await json(await byNumber(t, "n", form)), form).toEqual({ status: "ok", destination: "true", idContact: "700001" });
      expect((await crmCalls(url)).last?.body, form).toBe("idContact=&callerNumber=%2B34911234567");
    }
    // The CRM names no one for a shared or unknown number: no id to route on, so the agent asks.
    for (const key of ["shared", "unknown"] as const) expect(await json(await byNumber(t, "n", CALLERS[key])), key).toEqual({ status: "ok", destination: "false" });
  });
});

describe("identify by caller number", () => {
  async function hubspotNode(node: Record<string, unknown> = {}) {
    const t = await newTenant("cn");
    const f = fake("hubspot");
    await putConnector(t, "crm", { ...crmFixtures.hubspot!.config(f.base), ...mode2("properties.plan") });
    await putNode(t, "n", { interaction: "crm_destination", connector: "crm", identifyBy: "caller_number_then_dtmf", ...node });
    return { t, f };
  }

  it("a known number is routed at once, with the customer's id in the answer, from every body encoding", async () => {
    const { t } = await hubspotNode();
    const path = `/v1/tenants/${t.id}/nodes/n/identify`;
    const expected = { status: "ok", destination: "1,3", idContact: "700001" };
    expect(await json(await byNumber(t, "n", CALLERS.intlSpaced))).toEqual(expected);
    const asJson = await call("POST", path, { token: t.agent, body: { callerNumber: CALLERS.intlSpaced } });
    expect(await json(asJson)).toEqual(expected);
    expect(asJson.headers.get("x-cache")).toBe("HIT");
    const text = await call("POST", path, { token: t.agent, raw: `callerNumber=${encodeURIComponent("+34 911 23 45 67")}`, headers: { "content-type": "text/plain" } });
    expect(await json(text)).toEqual(expected);
    const form = new FormData();
    form.set("callerNumber", "+34-911-234-567");
    expect(await json(await call("POST", path, { token: t.agent, raw: form }))).toEqual(expected);
  });

  it("national numbers need the node's defaultCountry", async () => {
    const { t } = await hubspotNode({ defaultCountry: "ES" });
    expect(await json(await byNumber(t, "n", "911 23 45 67"))).toEqual({ status: "ok", destination: "1,3", idContact: "700001" });
    const other = await hubspotNode();
    const res = await byNumber(other.t, "n", "911 23 45 67");
    expect(res.headers.get("x-bridge-reason")).toBe("caller_number_unusable");
  });

  it("the tenant's defaultCountry reads national numbers for nodes without one; the node's own wins; null removes it", async () => {
    const { t } = await hubspotNode();
    const setTenant = (body: Record<string, unknown>) => call("PUT", `/v1/tenants/${t.id}`, { token: OPERATOR, body: { name: "cn", ...body } });
    const found = { status: "ok", destination: "1,3", idContact: "700001" };
    for (const bad of ["es", "XX", "ESP", 34]) expect((await setTenant({ defaultCountry: bad })).status, String(bad)).toBe(400);
    const set = await setTenant({ defaultCountry: "ES" });
    expect(await json(set)).toMatchObject({ id: t.id, defaultCountry: "ES" });
    // The identify context this isolate already holds is read again at once: no stale country.
    expect(await json(await byNumber(t, "n", "911 23 45 67"))).toEqual(found);
    // Left out, it is kept.
    expect(await json(await setTenant({}))).toMatchObject({ defaultCountry: "ES" });
    // The node's own country wins: read as Argentinian, the number is no Spanish customer's.
    await putNode(t, "ar", { interaction: "crm_destination", connector: "crm", identifyBy: "caller_number", defaultCountry: "AR" });
    expect(await json(await byNumber(t, "ar", "911 23 45 67"))).toEqual({ status: "fail", destination: "false" });
    await setTenant({ defaultCountry: "AR" });
    await putNode(t, "es", { interaction: "crm_destination", connector: "crm", identifyBy: "caller_number", defaultCountry: "ES" });
    expect(await json(await byNumber(t, "es", "911 23 45 67"))).toEqual(found);
    // International numbers never need a country.
    expect(await json(await byNumber(t, "n", CALLERS.intlSpaced))).toEqual(found);
    // The connector test reads a national number in the tenant's country too, unless the body names one.
    await setTenant({ defaultCountry: "ES" });
    const tried = await call("POST", `/v1/tenants/${t.id}/connectors/crm/test`, { token: t.admin, body: { callerNumber: "911 23 45 67" } });
    expect(await json(tried)).toMatchObject({ ok: true, result: "found", maskedCustomerId: "****01" });
    expect(await json(await setTenant({ defaultCountry: null }))).toMatchObject({ defaultCountry: null });
    const none = await byNumber(t, "n", "911 23 45 67");
    expect(none.headers.get("x-bridge-reason")).toBe("caller_number_unusable");
    expect((await call("POST", `/v1/tenants/${t.id}/connectors/crm/test`, { token: t.admin, body: { callerNumber: "911 23 45 67" } })).status).toBe(400);
  });

  it("withheld, anonymous and invalid numbers are caller_number_unusable and never reach the CRM", async () => {
    const { t, f } = await hubspotNode({ defaultCountry: "ES" });
    for (const withheld of ["", "anonymous", "Anonymous", "Restricted", "withheld", "12", "+99 1234"]) {
      const res = await byNumber(t, "n", withheld);
      expect(await json(res), withheld).toEqual({ status: "fail", destination: "false" });
      expect(res.headers.get("x-bridge-reason")).toBe("caller_number_unusable");
    }
    expect((await f.log()).dataCalls).toBe(0);
  });

  it("Asterisk's CURL() posts the + unencoded (form decoding makes it a space): read back for a foreign or country-less node, never guessed between two numbers", async () => {
    const found = { status: "ok", destination: "1,3", idContact: "700001" };
    const unencoded = (t: { id: string; agent: string }, node: string, value: string, type = "application/x-www-form-urlencoded") =>
      call("POST", `/v1/tenants/${t.id}/nodes/${node}/identify`, { token: t.agent, raw: `callerNumber=${value}`, headers: { "content-type": type } });
    // exten => s,n,Set(R=${CURL(https://…/identify,callerNumber=${CALLERID(num)})}) with CALLERID(num) +34911234567.
    for (const defaultCountry of [undefined, "GB", "AR", "ES"]) {
      const { t } = await hubspotNode(defaultCountry ? { defaultCountry } : {});
      expect(await json(await unencoded(t, "n", CALLERS.intlSpaced)), String(defaultCountry)).toEqual(found);
      expect(await json(await unencoded(t, "n", CALLERS.intlSpaced, "text/plain")), String(defaultCountry)).toEqual(found);
    }
    // " 869696601" in ES is +86 9696601 or +34 869 69 66 01: the caller gets the prompt, no CRM is asked.
    const { t, f } = await hubspotNode({ defaultCountry: "ES" });
    const ambiguous = await unencoded(t, "n", "+869696601");
    expect(await json(ambiguous)).toEqual({ status: "fail", destination: "false" });
    expect(ambiguous.headers.get("x-bridge-reason")).toBe("caller_number_unusable");
    expect((await f.log()).dataCalls).toBe(0);
    // URIENCODE() in the dialplan (%2B) says which it is.
    expect((await unencoded(t, "n", "%2B869696601")).headers.get("x-bridge-reason")).toBe("caller_number_not_found");
  });

  it("a trunk's name-addr or URI is read for its number: CALLERID(all), P-Asserted-Identity", async () => {
    const { t } = await hubspotNode();
    for (const raw of ['"Juan" <sip:+34911234567@carrier.example>', "<+34 911 23 45 67>", "tel:+34-911-234-567;phone-context=+34"]) {
      expect(await json(await byNumber(t, "n", raw)), raw).toEqual({ status: "ok", destination: "1,3", idContact: "700001" });
    }
  });

  it("trunk noise is caller_number_unusable with no CRM call; no log line carries the number", async () => {
    const { t, f } = await hubspotNode({ defaultCountry: "ES" });
    const lines: string[] = [];
    for (const m of ["log", "info", "warn", "error", "debug"] as const) vi.spyOn(console, m).mockImplementation((...a: unknown[]) => void lines.push(a.map(String).join(" ")));
    const noise = ["asterisk", "private", "unavailable", "unknown", "0", "1", "1".repeat(40), "+٣٤٩١١٢٣٤٥٦٧", "+３４９１１２３４５６７", "sip:anonymous@anonymous.invalid", "Anonymous <sip:anonymous@anonymous.invalid>", "+34911234567x12"];
    for (const raw of noise) expect((await byNumber(t, "n", raw)).headers.get("x-bridge-reason"), raw).toBe("caller_number_unusable");
    expect((await f.log()).dataCalls).toBe(0);
    // Found, not found, refused (no such node): the log has the number masked, never its digits.
    await byNumber(t, "n", CALLERS.intlSpaced);
    await byNumber(t, "n", "+34 919 99 99 99");
    await byNumber(t, "nope", CALLERS.intlSpaced);
    const identifyLines = lines.filter((l) => l.includes('"identify"'));
    expect(identifyLines.length).toBeGreaterThanOrEqual(noise.length + 3);
    for (const digits of ["91123456", "34911234", "91999999", "11111111", "١٢٣٤٥", "１２３４５"]) expect(lines.join("\n")).not.toContain(digits);
  });

  it("two customers with the number: ambiguous, never a guess; with idContact too, the typed id decides", async () => {
    const { t } = await hubspotNode();
    const res = await byNumber(t, "n", CALLERS.shared);
    expect(await json(res)).toEqual({ status: "fail", destination: "false" });
    expect(res.headers.get("x-bridge-reason")).toBe("ambiguous");
    const both = await byNumber(t, "n", CALLERS.shared, "12342");
    expect(await json(both)).toEqual({ status: "ok", destination: "1,3" });
  });

  it("cache: a number has its own entry (never an id's), a stale copy answers a failing CRM, and the customer id survives it", async () => {
    const t = await newTenant("cns");
    const f = fake("hubspot");
    await putConnector(t, "crm", { ...crmFixtures.hubspot!.config(f.base), ...mode2("properties.plan"), cache: { ttlSeconds: 0, negativeTtlSeconds: 0, staleIfErrorSeconds: 300 } });
    await putNode(t, "n", { interaction: "crm_destination", connector: "crm", identifyBy: "caller_number" });
    const first = await byNumber(t, "n", CALLERS.e164);
    expect(first.headers.get("x-cache")).toBe("MISS");
    const path = `/v1/tenants/${t.id}/nodes/n/identify`;
    // A 1 ms budget makes the refresh fail: the stale copy answers, customer id included.
    const stale = await call("POST", path, { token: t.agent, raw: `callerNumber=${encodeURIComponent(CALLERS.e164)}`, headers: { "content-type": "application/x-www-form-urlencoded", "x-deadline-ms": "1" } });
    expect(stale.headers.get("x-cache")).toBe("STALE");
    expect(await json(stale)).toEqual({ status: "ok", destination: "1,4", idContact: "700005" });
    // The id with the same digits is a different entry: a MISS, looked up by id.
    const byId = await call("POST", path, { token: t.agent, raw: "idContact=34914567890", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(byId.headers.get("x-cache")).toBe("MISS");
  });

  it("the connector test endpoint tries a number and shows the matched customer id masked", async () => {
    const { t } = await hubspotNode();
    const res = await call("POST", `/v1/tenants/${t.id}/connectors/crm/test`, { token: t.admin, body: { callerNumber: "912 345 678", defaultCountry: "ES" } });
    const body = await json(res);
    expect(body).toMatchObject({ ok: true, result: "found", decision: "1,3", matches: 1, maskedCustomerId: "****02" });
    expect(JSON.stringify(body)).not.toContain("700002");
    const withheld = await call("POST", `/v1/tenants/${t.id}/connectors/crm/test`, { token: t.admin, body: { callerNumber: "anonymous" } });
    expect(withheld.status).toBe(400);
    expect((await call("POST", `/v1/tenants/${t.id}/connectors/crm/test`, { token: t.admin, body: { idContact: "1", callerNumber: "+34912345678" } })).status).toBe(400);
  });

  it("mode none: a known number is success; the decision log shows the number masked", async () => {
    const { t } = await hubspotNode({ interaction: "none" });
    expect(await json(await byNumber(t, "n", CALLERS.e164))).toEqual({ status: "ok", destination: "true", idContact: "700005" });
    // Unknown or withheld: fail, so the agent takes the failure destination (caller_number) or prompts.
    for (const [raw, reason] of [[CALLERS.unknown, "caller_number_not_found"], ["anonymous", "caller_number_unusable"]] as const) {
      const res = await byNumber(t, "n", raw);
      expect(await json(res), raw).toEqual({ status: "fail", destination: "false" });
      expect(res.headers.get("x-bridge-reason"), raw).toBe(reason);
    }
    const log = await waitForDecisions<{ maskedId: string }>(t, 3, "?limit=5");
    for (const digits of ["914567890", "919999999"]) expect(JSON.stringify(log)).not.toContain(digits);
    expect(log.at(-1)?.maskedId).toBe("+*********90");
  });

  it("rest takes {callerNumber}; a webhook is asked only when it opts in, and an unmodified one still gets exactly idContact", async () => {
    const t = await newTenant("cnr");
    const f = fake("hubspot");
    await putConnector(t, "crm", { ...crmFixtures.hubspot!.config(f.base), ...mode2("properties.plan") });
    const whUrl = crmPath("contract", "true");
    await putConnector(t, "wh", { kind: "webhook", url: whUrl });
    await putNode(t, "n", { interaction: "crm_destination", connector: ["wh", "crm"], identifyBy: "caller_number" });
    // The webhook is skipped (phone_lookup_unsupported), the next connector answers.
    expect(await json(await byNumber(t, "n", CALLERS.intlSpaced))).toEqual({ status: "ok", destination: "1,3", idContact: "700001" });
    expect((await crmCalls(whUrl)).count).toBe(0);
    await putNode(t, "typed", { interaction: "crm_destination", connector: "wh" });
    await call("POST", `/v1/tenants/${t.id}/nodes/typed/identify`, { token: t.agent, raw: "idContact=12342", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect((await crmCalls(whUrl)).last?.body).toBe("idContact=12342");
    const bad = await call("PUT", `/v1/tenants/${t.id}/connectors/r`, { token: t.admin, body: { kind: "rest", url: "https://crm.example.com/customers" } });
    expect(bad.status).toBe(400);
    const good = await call("PUT", `/v1/tenants/${t.id}/connectors/r`, { token: t.admin, body: { kind: "rest", url: "https://crm.example.com/customers?id={idContact}&phone={callerNumber}", idPath: "customer.id" } });
    expect(good.status).toBeLessThan(300);
  });
});
