/** Reading server-rendered admin forms as a browser without script would submit them. */
export const unescape = (s: string) => s.replaceAll("&quot;", '"').replaceAll("&#39;", "'").replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&amp;", "&");
const attr = (tag: string, name: string) => {
  const m = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return m ? unescape(m[1]!) : undefined;
};

/** What a browser would submit from the form posting to `action`, as the page drew it (no script). */
export function formValues(html: string, action: string): Record<string, string> {
  const start = html.indexOf(`<form method="post" action="${action}"`);
  const form = html.slice(start, html.indexOf("</form>", start));
  const out: Record<string, string> = {};
  for (const [tag] of form.matchAll(/<input\b[^>]*>/g)) {
    const name = attr(tag, "name");
    const type = attr(tag, "type") ?? "text";
    if (!name || (type === "checkbox" && !/\schecked\b/.test(tag))) continue;
    out[name] = attr(tag, "value") ?? "";
  }
  for (const m of form.matchAll(/<select\b([^>]*)>([\s\S]*?)<\/select>/g)) {
    const name = attr(m[1]!, "name")!;
    const options = [...m[2]!.matchAll(/<option\b([^>]*)>/g)].map((o) => ({ value: attr(o[1]!, "value") ?? "", selected: /\sselected\b/.test(o[1]!) }));
    out[name] = (options.find((o) => o.selected) ?? options[0])?.value ?? "";
  }
  for (const m of form.matchAll(/<textarea\b([^>]*)>([\s\S]*?)<\/textarea>/g)) out[attr(m[1]!, "name")!] = unescape(m[2]!);
  return out;
}

