import { describe, expect, it } from "vitest";
import { slug } from "../../shared/ids.js";
import { REASONS } from "../../shared/reasons.js";
import { nodeConfig } from "../../shared/node.js";
import { timeZone } from "../../shared/tenant.js";
import { connectorConfig } from "../connectors/registry.js";
import { validationFailed } from "../services/errors.js";
import { fieldErrors, firstIssue, reasonText } from "./issues.js";

const ZOD_WORDING = /Invalid|expected|received|Too (big|small)|Inválid|Demasiado|esperado/;

describe("zod issues as our sentences", () => {
  const empty = { name: "", interaction: "crm_destination", successDestination: {}, failureDestination: { type: 5, id: Number("x") }, attempts: 99, expectedLength: 1.5 };
  const issues = nodeConfig.safeParse(empty).error!.issues;

  it("says each field's problem in the page's language, never in zod's words", () => {
    const es = fieldErrors(issues, "es");
    expect(es).toMatchObject({
      name: "Obligatorio.",
      attempts: "Como máximo 20.",
      expectedLength: "Escriba un número entero.",
      "successDestination.type": "Escriba un número.",
      "successDestination.id": "Escriba un número.",
      "failureDestination.id": "Escriba un número.",
    });
    const en = fieldErrors(issues, "en");
    expect(en).toMatchObject({ name: "Required.", attempts: "At most 20.", "successDestination.id": "Enter a number." });
    for (const m of [...Object.values(es), ...Object.values(en)]) expect(m).not.toMatch(ZOD_WORDING);
  });

  it("asks for a connector when a CRM interaction has none", () => {
    const node = { name: "x", interaction: "crm_true_false", successDestination: { type: 1, id: 1 }, failureDestination: { type: 5, id: 1 } };
    expect(fieldErrors(nodeConfig.safeParse(node).error!.issues, "es")).toEqual({ connector: "Elija un conector: los tipos de interacción con CRM lo necesitan." });
    // A none node identifying by the caller's number still asks a CRM.
    const byNumber = { ...node, interaction: "none", identifyBy: "caller_number" };
    expect(fieldErrors(nodeConfig.safeParse(byNumber).error!.issues, "es")).toEqual({ connector: "Elija un conector: identificar por el número de quien llama pregunta a un CRM si conoce el número." });
  });

  it("explains the id rule and the time zone in Spanish on the Spanish page", () => {
    expect(firstIssue(slug.safeParse("Bad Id").error!, "es")).toBe("Use minúsculas, dígitos y '-' (de 1 a 63 caracteres), sin empezar por '-'.");
    expect(firstIssue(timeZone.safeParse("Mars/Olympus").error!, "es")).toMatch(/^No es un nombre de zona horaria/);
  });

  it("maps connector schema messages: url format, {idContact}, regex names, unknown keys", () => {
    const rest = connectorConfig.safeParse({ kind: "rest", method: "GET", url: "https://crm.example/x", extra: 1 }).error!.issues;
    const es = Object.values(fieldErrors(rest, "es"));
    expect(es).toContain("Debe contener {idContact}, donde va el id del cliente, o {callerNumber}, donde va el número de quien llama.");
    expect(es.join(" ")).toContain("Ajuste desconocido: extra.");
    const url = fieldErrors(connectorConfig.safeParse({ kind: "webhook", url: "nope" }).error!.issues, "es");
    expect(url.url).toBe("Escriba una dirección completa que empiece por https://.");
    const hub = fieldErrors(connectorConfig.safeParse({ kind: "hubspot", token: "t", idProperty: "Bad Name!" }).error!.issues, "es");
    expect(Object.values(hub).join(" ")).not.toMatch(ZOD_WORDING);
    for (const m of Object.values(hub)) expect(m).not.toMatch(/HubSpot property internal name/);
  });

  it("tells a value of the wrong type from a missing one when the issue comes through the service (no input kept)", () => {
    const issues = validationFailed(connectorConfig.safeParse({ kind: "webhook", url: 5, timeoutMs: "x" }).error!.issues).issues;
    expect(fieldErrors(issues, "es")).toMatchObject({ url: "Escriba un texto.", timeoutMs: "Escriba un número." });
    const missing = validationFailed(connectorConfig.safeParse({ kind: "webhook" }).error!.issues).issues;
    expect(fieldErrors(missing, "es")).toMatchObject({ url: "Obligatorio." });
  });

  it("says our schemas' own rules in Spanish: a rule's field path, a token beside a Connect, Zendesk's credentials", () => {
    const rule = { kind: "rest", url: "https://crm.example/{idContact}", rules: [{ when: { path: "a..b", op: "eq", value: "x" }, destination: "true" }], default: "true", notFound: "false" };
    expect(fieldErrors(connectorConfig.safeParse(rule).error!.issues, "es")).toMatchObject({ "rules.0.when.path": "Se esperaba una ruta con puntos como properties.plan." });
    const oauth = { clientId: "c", clientSecret: "s", refreshToken: "r" };
    const both = connectorConfig.safeParse({ kind: "hubspot", accessToken: "t", oauth, idProperty: "customer_id" }).error!.issues;
    expect(fieldErrors(both, "es")).toEqual({ accessToken: "O un token o Conectar (OAuth), no ambos: vacíe el token para conservar la conexión." });
    const half = connectorConfig.safeParse({ kind: "zendesk", subdomain: "acme", email: "a@b.example" }).error!.issues;
    expect(Object.values(fieldErrors(half, "es"))).toEqual(["O el correo y el token de API juntos, o Conectar (OAuth)."]);
  });

  it("says the services' own English refusals in the page's language", () => {
    const own = [{ path: "connector", message: "no connector named a, b" }];
    expect(fieldErrors(own, "es", ["connector"])).toEqual({ connector: "No hay ningún conector llamado a, b." });
    // Unknown English never reaches the Spanish page; a path with no control goes to the summary.
    expect(fieldErrors([{ path: "rules.0.when", message: "went wrong" }], "es", ["connector"])).toEqual({ "": "rules.0.when: Este valor no es válido." });
    expect(fieldErrors([{ path: "x", message: "went wrong" }], "en")).toEqual({ x: "went wrong" });
  });
});

describe("reason codes", () => {
  const codes = [...REASONS, "crm_http_503", "edge_http_502"];
  it("has a short explanation of each in both languages", () => {
    for (const code of codes) {
      const en = reasonText("en", code);
      const es = reasonText("es", code);
      expect(en, code).toBeTruthy();
      expect(es, code).toBeTruthy();
      expect(es).not.toBe(en);
    }
    expect(reasonText("es", "invalid_length")).toBe("el id no tiene la longitud esperada");
    expect(reasonText("es", "crm_http_418")).toBe("el CRM respondió HTTP 418");
    expect(reasonText("en", "something_new")).toBeNull();
  });
});
