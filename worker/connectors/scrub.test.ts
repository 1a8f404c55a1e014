import { describe, expect, it } from "vitest";
import { basicAuth } from "./http.js";
import { MAX_FIELD_TEXT } from "../rules/engine.js";
import { edgeValues, REDACTED, scrubRecord, SentValues } from "./scrub.js";

const patterns = ["auth.password", "headers.*"];

describe("scrubbing what the edge sent out of a CRM record", () => {
  it("finds a secret raw, URL-encoded, JSON-escaped, base64 and as the Basic credential, but leaves the record's own values", () => {
    const config = { kind: "rest", auth: { type: "basic", username: "josé", password: 'p"w contraseña€' }, headers: { "X-Api-Key": "k3y-abcdef" } };
    const sent = new SentValues();
    sent.headers({ Authorization: basicAuth("josé", 'p"w contraseña€'), Accept: "application/json", "X-Api-Key": "k3y-abcdef" });
    const needles = edgeValues(config, patterns, sent);
    const record = {
      plan: "gold",
      mime: "application/json",
      a: `Basic ${basicAuth("josé", 'p"w contraseña€').slice(6)}`,
      b: `pw=${encodeURIComponent('p"w contraseña€')}`,
      c: `{"pw":${JSON.stringify('p"w contraseña€')}}`,
      d: ["x", "key is k3y-abcdef"],
      e: { nested: "k3y-abcdef" },
    };
    scrubRecord(record, ["plan", "mime", "a", "b", "c", "d", "e", "missing.path"], needles);
    expect(record).toEqual({ plan: "gold", mime: "application/json", a: REDACTED, b: REDACTED, c: REDACTED, d: ["x", REDACTED], e: { nested: "k3y-abcdef" } });
  });

  it("matches a short secret only whole, so a one-letter secret does not hide every field", () => {
    const needles = edgeValues({ headers: { X: "ab" } }, patterns, undefined);
    const record = { one: "ab", other: "tab" };
    scrubRecord(record, ["one", "other"], needles);
    expect(record).toEqual({ one: REDACTED, other: "tab" });
  });

  it("a long text is cut where the rules cut it, and a secret reaching into the part kept is still found", () => {
    const key = "k3y-0123456789abcdef";
    const needles = edgeValues({ headers: { "X-Api-Key": key } }, patterns, undefined);
    const record = {
      straddles: `${"x".repeat(MAX_FIELD_TEXT - 5)}${key}${"y".repeat(5000)}`,
      after: `${"x".repeat(MAX_FIELD_TEXT + 100)}${key}`,
      list: ["a", `${"x".repeat(MAX_FIELD_TEXT - 1)}${key}`],
    };
    scrubRecord(record, ["straddles", "after", "list.01"], needles);
    expect(record).toEqual({ straddles: REDACTED, after: "x".repeat(MAX_FIELD_TEXT), list: ["a", REDACTED] });
  });
});

