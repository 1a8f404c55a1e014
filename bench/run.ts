import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { runEdgeBench } from "./edge.js";
import type { BenchOptions, Figure } from "./figures.js";
import { withFigures } from "./table.js";

/**
 * `npm run bench [-- --quick] [-- --only edge,agent,connectors,quota,tenants]`: runs every part in one process,
 * prints one JSON line per figure (SPEC 7) and updates its rows of the figures table in BENCHMARKS.md.
 */
const quick = process.argv.includes("--quick");
const onlyArg = process.argv.find((a) => a.startsWith("--only="))?.slice(7);
const only = onlyArg ? new Set(onlyArg.split(",")) : null;
const opts: BenchOptions = { quick };

type Part = { name: string; run: (o: BenchOptions) => Promise<Figure[]> };
const parts: Part[] = [{ name: "edge", run: runEdgeBench }];
// The agent and connector parts live beside their code; each is optional until it lands.
for (const [name, file, fn] of [
  ["agent", "./agent.ts", "runAgentBench"],
  ["connectors", "./connectors.ts", "runConnectorBench"],
  ["quota", "./quota.ts", "runQuotaBench"],
  ["tenants", "./tenants.ts", "runTenantsBench"],
] as const) {
  if (existsSync(join(import.meta.dirname, file))) {
    const mod = (await import(file)) as Record<string, (o: BenchOptions) => Promise<Figure[]>>;
    if (typeof mod[fn] === "function") parts.push({ name, run: mod[fn] });
  }
}

const all: Figure[] = [];
for (const part of parts) {
  if (only && !only.has(part.name)) continue;
  try {
    for (const f of await part.run(opts)) {
      all.push(f);
      console.log(JSON.stringify(f));
    }
  } catch (e) {
    console.error(`bench part ${part.name} failed: ${(e as Error).message}`);
    process.exitCode = 1;
  }
}

const md = resolve(import.meta.dirname, "../BENCHMARKS.md");
if (existsSync(md) && all.length) {
  const text = readFileSync(md, "utf8");
  writeFileSync(md, withFigures(text, all, `${new Date().toISOString().slice(0, 16)}Z \`npm run bench${quick || onlyArg ? " --" : ""}${quick ? " --quick" : ""}${onlyArg ? ` --only=${onlyArg}` : ""}\``));
}
process.exit();
