import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");

// Children die with the test process, even when it crashes: no stray agent after a failed run.
const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of running) c.kill("SIGKILL");
});

export type Proc = { child: ChildProcess; output: string[]; waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>; stop(signal?: NodeJS.Signals): Promise<number | null> };

/** A TypeScript entry point of this repo as a separate process, its output kept line by line. */
export function startTs(entry: string, env: Record<string, string> = {}): Proc {
  // `--import tsx` keeps it one process (no tsx wrapper), so signals and RSS are the program's own.
  const child = spawn(process.execPath, ["--import", "tsx", resolve(ROOT, entry)], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  child.once("exit", () => running.delete(child));
  const output: string[] = [];
  const waiters = new Set<() => void>();
  let buffered = "";
  const onData = (d: Buffer) => {
    buffered += d.toString();
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    output.push(...lines);
    for (const w of [...waiters]) w();
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return {
    child,
    output,
    waitFor(re, timeoutMs = 20_000) {
      return new Promise((resolveMatch, reject) => {
        const check = () => {
          for (const l of output) {
            const m = l.match(re);
            if (m) {
              waiters.delete(check);
              clearTimeout(timer);
              return resolveMatch(m);
            }
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${entry}: no line matching ${re} within ${timeoutMs} ms; output:\n${output.slice(-20).join("\n")}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
