/** How long a caller will wait: a number of ms from now, or until a signal aborts (its deadline, its hang-up). */
export type WaitLimit = { ms: number } | { signal: AbortSignal };

/**
 * Waits for `work`, but not past the limit: then rejects with `onLimit()`. Only the wait is cut,
 * not the work, which may be shared with other callers on longer budgets (one CRM call or token
 * request serving a burst). The timer or listener is gone as soon as either side settles.
 */
export function boundedWait<T>(work: PromiseLike<T>, limit: WaitLimit, onLimit: () => unknown): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const signal = "signal" in limit ? limit.signal : undefined;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const stop = () => reject(onLimit());
    const settled = () => {
      if (timer !== null) clearTimeout(timer);
      signal?.removeEventListener("abort", stop);
    };
    if (!signal) timer = setTimeout(stop, Math.max(0, "ms" in limit ? limit.ms : 0));
    else if (signal.aborted) stop();
    else signal.addEventListener("abort", stop, { once: true });
    Promise.resolve(work).then(
      (v) => (settled(), resolve(v)),
      (e: unknown) => (settled(), reject(e)),
    );
  });
}
