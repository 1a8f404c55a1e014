/**
 * Which CRM URLs a connector may reach. Workers cannot resolve DNS before fetch, so the
 * check is on the URL itself: https only, no address literal in a private, loopback,
 * link-local or otherwise non-public range — IPv6 forms that carry an IPv4 address inside
 * (mapped, compatible, NAT64, 6to4, Teredo) are judged by that address — and no host name
 * that is not a public DNS name (single labels, localhost, .local, .internal…). What a
 * public name resolves to is not checked here: see README "Connector URLs" for what the
 * platform guarantees and the local residual risk. Redirects are followed by hand so each
 * hop is checked again.
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
  if (host.startsWith("[")) {
    const v6 = parseV6(host.slice(1, -1));
    return !v6 || isPrivateV6(v6) ? "private address" : null;
  }
  const v4 = parseV4(host);
  if (v4) return isPrivateV4(v4) ? "private address" : null;
  return isPublicName(host) ? null : "private host";
}

// Names that only mean something on a local network or resolver (RFC 6761, RFC 6762, RFC 8375,
// ICANN's .internal) and the common unofficial LAN suffixes.
const LOCAL_SUFFIXES = ["localhost", "local", "internal", "intranet", "lan", "home", "corp", "private", "localdomain", "home.arpa", "arpa", "test", "invalid", "onion"];

/** A name that can only come from public DNS: at least two labels, an alphabetic top-level label, no local suffix. */
function isPublicName(host: string): boolean {
  const labels = host.split(".");
  if (labels.length < 2 || labels.some((l) => l === "")) return false;
  if (!/^([a-z]{2,63}|xn--[a-z0-9-]{1,59})$/.test(labels.at(-1)!)) return false;
  return !LOCAL_SUFFIXES.some((s) => host === s || host.endsWith(`.${s}`));
}

function parseV4(host: string): number[] | null {
  // URL() already normalises decimal, octal and hex forms (0x7f.1, 2130706433) to dotted quads.
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(host);
  return m ? m.slice(1).map(Number) : null;
}

/** Not on the public Internet: RFC 6890's special-purpose ranges that a CRM can never live in. */
export function isPrivateV4([a, b, c]: number[]): boolean {
  if (a === undefined || b === undefined || c === undefined) return true;
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b <= 127) ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 0 && (c === 0 || c === 2)) ||
    (a === 192 && b === 88 && c === 99) ||
    (a === 192 && b === 168) ||
    (a === 198 && (b === 18 || b === 19)) ||
    (a === 198 && b === 51 && c === 100) ||
    (a === 203 && b === 0 && c === 113) ||
    a >= 224
  );
}

/** Eight 16-bit groups; URL() has already checked the syntax, this only expands "::" and a dotted tail. */
export function parseV6(text: string): number[] | null {
  let s = text.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    s = `${s.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const part = (p: string) => (p === "" ? [] : p.split(":").map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN)));
  const head = part(halves[0]!);
  const tail = halves.length === 2 ? part(halves[1]!) : [];
  const fill = 8 - head.length - tail.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return null;
  const groups = [...head, ...Array<number>(fill).fill(0), ...tail];
  return groups.some(Number.isNaN) ? null : groups;
}

const v4Of = (hi: number, lo: number) => [hi >> 8, hi & 255, lo >> 8, lo & 255];

export function isPrivateV6(g: number[]): boolean {
  const [g0, g1, g2, g3, g4, g5, g6, g7] = g as [number, number, number, number, number, number, number, number];
  // ::/96 — unspecified, loopback and the IPv4-compatible form (::7f00:1 is 127.0.0.1): none is a public host.
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return true;
  // IPv4-mapped ::ffff:0:0/96 and IPv4-translated ::ffff:0:0:0/96: the v4 address decides.
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && ((g4 === 0 && g5 === 0xffff) || (g4 === 0xffff && g5 === 0))) return isPrivateV4(v4Of(g6, g7));
  // NAT64 well-known prefix 64:ff9b::/96 carries the v4 address; the local-use 64:ff9b:1::/48 is private by definition.
  if (g0 === 0x64 && g1 === 0xff9b) return g2 === 1 || isPrivateV4(v4Of(g6, g7));
  // 6to4 2002::/16 carries the v4 address in bits 16–47.
  if (g0 === 0x2002) return isPrivateV4(v4Of(g1, g2));
  // Teredo 2001::/32: the server's v4 in bits 32–63, the client's (inverted) in the last 32.
  if (g0 === 0x2001 && g1 === 0) return isPrivateV4(v4Of(g2, g3)) || isPrivateV4(v4Of(g6 ^ 0xffff, g7 ^ 0xffff));
  // Discard-only 100::/64 and dummy 100:0:0:1::/64, documentation 2001:db8::/32 and 3fff::/20,
  // benchmarking 2001:2::/48, ORCHID 2001:10::/28, SRv6 SIDs 5f00::/16: none globally reachable (IANA).
  if (g0 === 0x100 && g1 === 0 && g2 === 0 && (g3 === 0 || g3 === 1)) return true;
  if (g0 === 0x2001 && (g1 === 0xdb8 || (g1 === 2 && g2 === 0) || (g1 & 0xfff0) === 0x10)) return true;
  if ((g0 === 0x3fff && (g1 & 0xf000) === 0) || g0 === 0x5f00) return true;
  // ULA fc00::/7, link-local fe80::/10, site-local fec0::/10, multicast ff00::/8.
  return (g0 & 0xfe00) === 0xfc00 || (g0 & 0xffc0) === 0xfe80 || (g0 & 0xffc0) === 0xfec0 || (g0 & 0xff00) === 0xff00;
}
