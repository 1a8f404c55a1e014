import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { destinationsFile } from "../../shared/destinations-file.js";
import { nodesFile } from "../../shared/node.js";
import { resolveRoute } from "../../pbx-agent/src/routing/route-call.js";

const dir = join(process.cwd(), "pbx-agent/asterisk");
const read = (f: string) => readFileSync(join(dir, f), "utf8");

describe("sample configs in pbx-agent/asterisk", () => {
  it("destinations.omnileads.json sends every type to OMniLeads' own destination switch", () => {
    const f = destinationsFile.parse(JSON.parse(read("destinations.omnileads.json")));
    for (let type = 1; type <= 12; type++) {
      const r = resolveRoute(f, { type, id: 42 });
      expect(r).toEqual({ kind: "dialplan", target: { context: "crm-bridge-oml-dst", extension: "s", priority: 1 } });
    }
    const dialplan = read("extensions.omnileads.conf");
    expect(dialplan).toContain("[crm-bridge-oml-dst]");
    expect(dialplan).toContain("Gosub(sub-oml-dst-switch,s,1(${CRM_BRIDGE_DEST_TYPE},${CRM_BRIDGE_DEST_ID}))");
    expect(dialplan).toContain(`[${f.fallback.context}]`);
  });

  it("destinations.asterisk.json names only contexts that extensions.conf defines", () => {
    const f = destinationsFile.parse(JSON.parse(read("destinations.asterisk.json")));
    const dialplan = read("extensions.conf");
    expect(dialplan).toMatch(/Stasis\(crm-bridge,[a-z0-9-]+,[a-z0-9-]+\)/);
    for (const t of [...Object.values(f.types), f.default, f.fallback]) {
      if (t.context === "from-internal") continue; // the site's own extensions
      expect(dialplan).toContain(`[${t.context}]`);
    }
    expect(resolveRoute(f, { type: 5, id: 1 })).toEqual({ kind: "hangup" });
    expect(resolveRoute(f, { type: 9, id: 3 })).toEqual({ kind: "node", nodeId: "3" });
  });

  it("extensions.conf fails over between two agents' apps on STASISSTATUS=FAILED, then to the fallback", () => {
    const ha = read("extensions.conf").split("[from-trunk-ha]")[1]?.split(/^\[/m)[0] ?? "";
    expect(ha).toMatch(/Stasis\(crm-bridge-a,acme,sales\)\n same => n,GotoIf\(\$\["\$\{STASISSTATUS\}" != "FAILED"\]\?fallback\)\n same => n,Stasis\(crm-bridge-b,acme,sales\)\n same => n\(fallback\),Goto\(crm-bridge-fallback,s,1\)/);
  });

  it("nodes.sample.json is a valid NODES_FILE; ari.conf and http.conf enable ARI", () => {
    expect(() => nodesFile.parse(JSON.parse(read("nodes.sample.json")))).not.toThrow();
    expect(read("ari.conf")).toMatch(/^\[crm-bridge\]\ntype = user/m);
    expect(read("http.conf")).toMatch(/^enabled = yes/m);
    expect(read("http.conf")).toMatch(/^bindport = 8088/m);
  });
});
