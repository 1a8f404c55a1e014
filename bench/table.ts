import type { Figure } from "./figures.js";

const START = "<!-- figures:start -->";
const END = "<!-- figures:end -->";
const HEAD = ["| figure | value | unit | baseline | ratio | measured |", "| --- | ---: | --- | --- | ---: | --- |"];

/**
 * The figures table with this run's rows in place: `--only=quota` must not wipe the edge's or the
 * agent's figures from an earlier run, so each row carries when and by which command it was
 * measured, and a run replaces only the rows it measured again.
 */
export function withFigures(markdown: string, figures: Figure[], measured: string): string {
  const rows = new Map<string, string>();
  const at = markdown.indexOf(START);
  const endAt = markdown.indexOf(END);
  const old = at >= 0 && endAt > at ? markdown.slice(at, endAt) : "";
  // A table written before rows carried their run: its one "Last run" line says when.
  const oldRun = /Last run: (\S+) \([^)]*\), (`[^`]+`)/.exec(old);
  for (const line of old.split("\n")) {
    const m = /^\| `([^`]+)` \|(.*)\|$/.exec(line);
    if (!m) continue;
    const cells = m[2]!.split("|").map((c) => c.trim());
    if (cells.length === 4) cells.push(oldRun ? `${oldRun[1]!.slice(0, 16)}Z ${oldRun[2]}` : "");
    rows.set(m[1]!, `| \`${m[1]}\` | ${cells.join(" | ")} |`);
  }
  for (const f of figures) rows.set(f.name, `| \`${f.name}\` | ${f.value} | ${f.unit} | ${f.baseline ? `\`${f.baseline}\`` : ""} | ${f.ratio ?? ""} | ${measured} |`);
  const table = [START, "Each row was measured by the command beside it, on this repo's 2-core CI-size machine; a run with `--only=` replaces only its own rows.", "", ...HEAD, ...rows.values(), END].join("\n");
  if (at >= 0 && endAt > at) return markdown.slice(0, at) + table + markdown.slice(endAt + END.length);
  return `${markdown}\n${table}\n`;
}
