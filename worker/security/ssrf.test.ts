import { describe, expect, it } from "vitest";
import { urlRefusal } from "./ssrf.js";

describe("connector URL rules", () => {
  it("accepts public https URLs", () => {
    for (const u of ["https://api.hubapi.com/crm", "https://crm.example.com:8443/x?y=1", "https://8.8.8.8/", "https://[2001:4860::8888]/"]) {
      expect(urlRefusal(u, false), u).toBeNull();
    }
  });
  it("refuses http, private, loopback and link-local hosts in every spelling", () => {
    for (const u of [
      "http://crm.example.com/",
      "https://127.0.0.1/",
      "https://127.1/",
      "https://2130706433/",
      "https://0x7f000001/",
      "https://0177.0.0.1/",
      "https://10.1.2.3/",
      "https://172.16.0.1/",
      "https://172.31.255.255/",
      "https://192.168.1.1/",
      "https://169.254.169.254/latest/meta-data",
      "https://100.64.0.1/",
      "https://0.0.0.0/",
      "https://localhost/",
      "https://api.localhost/",
      "https://printer.local/",
      "https://metadata.google.internal/",
      "https://[::1]/",
      "https://[fd00::1]/",
      "https://[fe80::1]/",
      "https://[::ffff:127.0.0.1]/",
      "https://[::ffff:a9fe:a9fe]/",
      "https://user:pw@example.com/",
      "ftp://example.com/",
      "not a url",
    ]) {
      expect(urlRefusal(u, false), u).not.toBeNull();
    }
  });
  it("ALLOW_PRIVATE_CRM_URLS lets local development reach http and loopback, still only http(s)", () => {
    expect(urlRefusal("http://127.0.0.1:8787/x", true)).toBeNull();
    expect(urlRefusal("file:///etc/passwd", true)).not.toBeNull();
  });
});
