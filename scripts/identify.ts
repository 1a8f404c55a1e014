import { parseArgs } from "node:util";
import { readFileSync, existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseContractReply } from "../shared/contract.js";

/** `npm run identify -- --tenant T --node N --id 12345 [--edge URL] [--key K]`: asks the edge as the agent would. */
const USAGE = "usage: npm run identify -- --tenant T --node N --id 12345 [--edge URL] [--key K] [--deadline MS]";

export async function runIdentify(argv: string[], env = process.env): Promise<{ code: number; out: string }> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { tenant: { type: "string" }, node: { type: "string" }, id: { type: "string" }, edge: { type: "string" }, key: { type: "string" }, deadline: { type: "string" } },
      strict: true,
    }));
  } catch (e) {
    return { code: 2, out: `${(e as Error).message}\n${USAGE}` };
  }
  const { tenant, node, id } = values;
  if (!tenant || !node || id === undefined) return { code: 2, out: USAGE };
  const edge = (values.edge ?? env.EDGE_URL ?? `http://127.0.0.1:${env.EDGE_PORT ?? 8787}`).replace(/\/$/, "");
  let key = values.key ?? env.EDGE_KEY;
  const saved = join(resolve(env.EDGE_STATE_DIR ?? resolve(import.meta.dirname, "../.wrangler/state")), "demo-keys.json");
  if (!key && tenant === "demo" && existsSync(saved)) key = (JSON.parse(readFileSync(saved, "utf8")) as { agentKey: string }).agentKey;
  if (!key) return { code: 2, out: "no key: pass --key or set EDGE_KEY" };

  const started = performance.now();
  let res: Response;
  try {
    res = await fetch(`${edge}/v1/tenants/${encodeURIComponent(tenant)}/nodes/${encodeURIComponent(node)}/identify`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${key}`,
        "content-type": "application/x-www-form-urlencoded",
        "user-agent": "OMniLeads",
        ...(values.deadline ? { "x-deadline-ms": values.deadline } : {}),
      },
      body: new URLSearchParams({ idContact: id }).toString(),
      signal: AbortSignal.timeout(Number(values.deadline ?? 10_000) + 1000),
    });
  } catch (e) {
    return { code: 1, out: `edge unreachable at ${edge}: ${(e as Error).name}` };
  }
  const ms = Math.round(performance.now() - started);
  const text = await res.text();
  if (res.status !== 200) return { code: 1, out: `HTTP ${res.status} ${text} (${ms} ms)` };
  const parsed = parseContractReply(text);
  const decision = parsed.ok ? `${parsed.reply.status} ${parsed.reply.destination}` : `unreadable reply (${parsed.problem})`;
  const reason = res.headers.get("x-bridge-reason");
  return {
    code: 0,
    out: `decision: ${decision}\ncache:    ${res.headers.get("x-cache") ?? "-"}\nreason:   ${reason ?? "-"}\ntime:     ${ms} ms`,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { code, out } = await runIdentify(process.argv.slice(2));
  (code === 0 ? console.log : console.error)(out);
  process.exit(code);
}
