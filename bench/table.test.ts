import { expect, it } from "vitest";
import { withFigures } from "./table.js";

const doc = (rows: string) => `# Benchmarks\n\nprose\n\n<!-- figures:start -->\nanything\n\n${rows}\n<!-- figures:end -->\n\nafter\n`;

it("a run replaces only the rows it measured and keeps every other row with its own run", () => {
  const first = withFigures(doc(""), [{ name: "edge.a", value: 1, unit: "ms" }, { name: "agent.b", value: 2, unit: "ms", baseline: "agent.c", ratio: 0.5 }], "T1 `npm run bench`");
  const second = withFigures(first, [{ name: "edge.a", value: 3, unit: "ms" }, { name: "edge.quota.d", value: 4, unit: "%" }], "T2 `npm run bench -- --only=edge`");
  expect(second).toContain("| `edge.a` | 3 | ms |  |  | T2 `npm run bench -- --only=edge` |");
  expect(second).toContain("| `agent.b` | 2 | ms | `agent.c` | 0.5 | T1 `npm run bench` |");
  expect(second).toContain("| `edge.quota.d` | 4 | % |  |  | T2");
  expect(second).not.toContain("| 1 | ms");
  expect(second.startsWith("# Benchmarks\n\nprose\n\n<!-- figures:start -->")).toBe(true);
  expect(second.endsWith("<!-- figures:end -->\n\nafter\n")).toBe(true);
  expect(second.match(/figures:start/g)).toHaveLength(1);
});

it("rows from a table written before rows carried their run get the table's one 'Last run'", () => {
  const legacy = doc("Last run: 2026-11-25T18:01:53.144Z (full), `npm run bench`, on this machine.\n\n| figure | value | unit | baseline | ratio |\n| --- | ---: | --- | --- | ---: |\n| `edge.x` | 7 | ms |  |  |");
  expect(withFigures(legacy, [], "now")).toContain("| `edge.x` | 7 | ms |  |  | 2026-11-25T18:01Z `npm run bench` |");
});

it("a document without a table gets one at the end", () => {
  expect(withFigures("# B\n", [{ name: "n", value: 1, unit: "u" }], "T")).toMatch(/^# B\n\n<!-- figures:start -->[\s\S]*\| `n` \| 1 \| u \|[\s\S]*<!-- figures:end -->\n$/);
});
