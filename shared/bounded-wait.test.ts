import { describe, expect, it } from "vitest";
import { boundedWait } from "./bounded-wait.js";

const late = <T>(v: T, ms: number) => new Promise<T>((r) => setTimeout(() => r(v), ms));
const limitError = () => new Error("too late");

describe("boundedWait", () => {
  it("gives the work's value or error when it settles first", async () => {
    await expect(boundedWait(late("v", 5), { ms: 1000 }, limitError)).resolves.toBe("v");
    await expect(boundedWait(Promise.reject(new Error("crm")), { ms: 1000 }, limitError)).rejects.toThrow("crm");
    const c = new AbortController();
    await expect(boundedWait(late(1, 5), { signal: c.signal }, limitError)).resolves.toBe(1);
  });

  it("stops waiting at the limit, and the work's later outcome changes nothing", async () => {
    const started = Date.now();
    const work = late("v", 300);
    await expect(boundedWait(work, { ms: 20 }, limitError)).rejects.toThrow("too late");
    expect(Date.now() - started).toBeLessThan(250);
    // The shared work still finishes for whoever else waits on it.
    await expect(work).resolves.toBe("v");
  });

  it("stops at a signal's abort, at once when it is already aborted, with a zero or negative budget", async () => {
    const c = new AbortController();
    const waiting = boundedWait(new Promise(() => undefined), { signal: c.signal }, limitError);
    c.abort();
    await expect(waiting).rejects.toThrow("too late");
    await expect(boundedWait(late(1, 50), { signal: AbortSignal.abort() }, limitError)).rejects.toThrow("too late");
    await expect(boundedWait(late(1, 50), { ms: -5 }, limitError)).rejects.toThrow("too late");
  });

  it("lets go of the signal once settled", async () => {
    const c = new AbortController();
    let added = 0;
    let removed = 0;
    const add = c.signal.addEventListener.bind(c.signal);
    const remove = c.signal.removeEventListener.bind(c.signal);
    c.signal.addEventListener = (...a: Parameters<typeof add>) => (added++, add(...a));
    c.signal.removeEventListener = (...a: Parameters<typeof remove>) => (removed++, remove(...a));
    await boundedWait(Promise.resolve(1), { signal: c.signal }, limitError);
    expect([added, removed]).toEqual([1, 1]);
  });
});
