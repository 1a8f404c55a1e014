/**
 * Where a dot path ("properties.plan", "records.0.Name") ends in a CRM's JSON: the object or list
 * holding the value and the key it sits under, or null when the path leads nowhere. The one reading
 * of a path: the rules, the test's "fields read", idPath and the scrub of what the edge sent all go
 * through it, so the scrub cleans exactly the value a path reads ("list.01" is element 1 of a list).
 */
export function locate(value: unknown, path: string): { holder: Record<string, unknown> | unknown[]; key: string | number } | null {
  const segs = path.split(".");
  let cur: unknown = value;
  for (let i = 0; ; i++) {
    if (cur === null || typeof cur !== "object") return null;
    const seg = segs[i]!;
    let key: string | number;
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(seg)) return null;
      key = Number(seg);
      if (key >= cur.length) return null;
    } else {
      // Own properties only: a path like "__proto__.x" must read nothing.
      if (!Object.prototype.hasOwnProperty.call(cur, seg)) return null;
      key = seg;
    }
    if (i === segs.length - 1) return { holder: cur as Record<string, unknown> | unknown[], key };
    cur = (cur as Record<string | number, unknown>)[key];
  }
}

/** Reads a dot path out of a CRM's JSON (see locate). */
export function readPath(value: unknown, path: string): unknown {
  const at = locate(value, path);
  return at === null ? undefined : (at.holder as Record<string | number, unknown>)[at.key];
}
