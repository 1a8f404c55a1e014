import { describe, expect, it } from "vitest";
import { dict, pickLang } from "./i18n.js";

describe("pickLang", () => {
  it("follows the highest-weighted of English and Spanish", () => {
    expect(pickLang(undefined, "es-AR,es;q=0.9,en;q=0.5")).toBe("es");
    expect(pickLang(undefined, "en-US,es;q=0.8")).toBe("en");
    expect(pickLang(undefined, "fr-FR,es;q=0.4")).toBe("es");
    expect(pickLang(undefined, "en;q=0.3, es;q=0.7")).toBe("es");
    expect(pickLang(undefined, "es;q=0, en;q=0.1")).toBe("en");
    expect(pickLang(undefined, "de")).toBe("en");
    expect(pickLang(undefined, undefined)).toBe("en");
  });
  it("lets the switch (cookie) override the header, ignoring unknown values", () => {
    expect(pickLang("en", "es")).toBe("en");
    expect(pickLang("es", "en")).toBe("es");
    expect(pickLang("fr", "es")).toBe("es");
  });
});

describe("dictionaries", () => {
  it("keep SPEC 8's English node labels exactly", () => {
    const n = dict("en").node;
    expect([n.name, n.interaction, n.connector, n.audio, n.expectedLength, n.timeoutSeconds, n.attempts, n.confirm, n.successType, n.successId, n.failureType, n.failureId]).toEqual([
      "Name",
      "Interaction type",
      "Connector",
      "Audio",
      "Expected id length",
      "Timeout (seconds)",
      "Attempts",
      "Confirm the id",
      "Success destination type",
      "Success destination id",
      "Failure destination type",
      "Failure destination id",
    ]);
    expect(dict("en").common.save).toBe("Save");
    expect([dict("en").login.key, dict("en").login.submit]).toEqual(["Admin key", "Sign in"]);
  });
  it("have the same keys in both languages", () => {
    const shape = (o: unknown): unknown =>
      typeof o === "object" && o !== null ? Object.keys(o).sort().map((k) => [k, shape((o as Record<string, unknown>)[k])]) : typeof o;
    expect(shape(dict("es"))).toEqual(shape(dict("en")));
  });
});
