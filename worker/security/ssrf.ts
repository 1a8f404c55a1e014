/**
 * Which CRM URLs a connector may reach. Workers cannot resolve DNS before fetch, so the
 * check is on the URL itself: https only, and no host that names a private, loopback or
 * link-local address. Redirects are followed by hand so each hop is checked again.
 */
export function urlRefusal(raw: string, allowPrivate: boolean): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "not a URL";
  }
  if (url.username || url.password) return "credentials in the URL";
  if (allowPrivate) return url.protocol === "https:" || url.protocol === "http:" ? null : "only http(s)";
  if (url.protocol !== "https:") return "only https:// URLs";
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  if (host === "localhost" || host.endsWith(".localhost") || host.endsWith(".local") || host.endsWith(".internal")) {
    return "private host";
  }
  if (host.startsWith("[")) return isPrivateV6(host.slice(1, -1)) ? "private address" : null;
  const v4 = parseV4(host);
  if (v4 && isPrivateV4(v4)) return "private address";
  return null;
}

function parseV4(host: string): number[] | null {
  // URL() already normalises decimal, octal and hex forms (0x7f.1, 2130706433) to dotted quads.
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(host);
  return m ? m.slice(1).map(Number) : null;
}

function isPrivateV4([a, b]: number[]): boolean {
  if (a === undefined || b === undefined) return true;
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b <= 127) ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 198 && (b === 18 || b === 19)) ||
    a >= 224
  );
}

function isPrivateV6(h: string): boolean {
  const host = h.toLowerCase();
  if (host === "::" || host === "::1") return true;
  if (/^f[cd]/.test(host) || /^fe[89ab]/.test(host)) return true;
  // IPv4-mapped (::ffff:a.b.c.d, which URL() writes as ::ffff:7f00:1) and NAT64 forms embed a v4 address.
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (mapped) {
    const hi = parseInt(mapped[1]!, 16);
    const lo = parseInt(mapped[2]!, 16);
    return isPrivateV4([hi >> 8, hi & 255, lo >> 8, lo & 255]);
  }
  return host.startsWith("::ffff:") || host.startsWith("64:ff9b:");
}
