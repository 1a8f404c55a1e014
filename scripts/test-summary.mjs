// Prints the closing "N passed, N failed, N skipped" line from vitest's JSON report, so CI logs
// end with one plain line whatever the runner's own formatting.
import { readFileSync } from "node:fs";

const r = JSON.parse(readFileSync(new URL("../test-output/vitest.json", import.meta.url), "utf8"));
const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
process.exit(r.numFailedTests > 0 || r.numPassedTests === 0 ? 1 : 0);
