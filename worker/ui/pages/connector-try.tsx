import type { Child } from "hono/jsx";
import type { ConnectorConfig } from "../../connectors/registry.js";
import { testConnector, type TestReply } from "../../services/connectors.js";
import { DomainError, QuotaRefused } from "../../services/errors.js";
import { tenantOf, type UiContext } from "../context.js";
import { reasonText } from "../issues.js";

export type TryResult = TestReply | { ok: false; reason: string; ms?: undefined; retryAfterSeconds?: number };

function Row(p: { label: string; children: Child }) {
  return (
    <tr>
      <th scope="row">{p.label}</th>
      <td>{p.children}</td>
    </tr>
  );
}

export function TryResultView(p: { c: UiContext; result: TryResult; config: ConnectorConfig }) {
  const t = p.c.get("t").connector;
  const r = p.result;
  if (!r.ok) {
    // The code is what logs and the API say; the sentence beside it is what it means, in the page's language.
    const why = reasonText(p.c.get("lang"), r.reason);
    return (
      <div class="banner err" role="status" id="try-result">
        <strong>{t.tryFailed}:</strong> <code>{r.reason}</code>
        {why ? ` · ${why}` : ""}
        {r.ms !== undefined ? ` · ${t.tryTime}: ${r.ms} ms` : ""}
        {"retryAfterSeconds" in r && r.retryAfterSeconds !== undefined ? ` · ${t.tryAgainIn(String(r.retryAfterSeconds))}` : ""}
      </div>
    );
  }
  const rules = "rules" in p.config ? p.config.rules : [];
  const matched = typeof r.rule === "number" ? rules[r.rule] : undefined;
  const ruleText = typeof r.rule === "number" ? `#${r.rule + 1}${matched ? ` ${JSON.stringify(matched.when)} → ${matched.destination}` : ""}` : (r.rule ?? "—");
  return (
    <div class="banner ok" role="status" id="try-result">
      <table>
        <tbody>
          <Row label={t.tryDecision}>
            <code>{r.decision}</code>
          </Row>
          <Row label={t.tryRule}>
            <code>{ruleText}</code>
          </Row>
          <Row label={t.tryMatches}>{r.matches}</Row>
          {r.maskedCustomerId !== undefined ? (
            <Row label={t.tryCustomer}>
              <code>{r.maskedCustomerId}</code>
            </Row>
          ) : null}
          <Row label={t.tryTime}>{`${r.ms} ms`}</Row>
          <Row label={t.tryRecord}>
            {r.result === "notFound" ? (
              t.tryNoRecord
            ) : Object.keys(r.fields).length ? (
              <dl style="margin:0">
                {Object.entries(r.fields).map(([k, v]) => (
                  <>
                    <dt>
                      <code>{k}</code>
                    </dt>
                    <dd>
                      <code>{JSON.stringify(v)}</code>
                    </dd>
                  </>
                ))}
              </dl>
            ) : (
              "—"
            )}
          </Row>
        </tbody>
      </table>
    </div>
  );
}


/**
 * "Try an id or a caller number" runs the same service as the API's connector test (a number
 * in the tenant's default country when national); a refused try (a bad id, an unusable number)
 * shows its code.
 */
export async function tryLookup(c: UiContext, connector: string, subject: { idContact: string } | { callerNumber: string }): Promise<TryResult> {
  try {
    return await testConnector(c.get("svc"), tenantOf(c), connector, subject);
  } catch (e) {
    if (e instanceof QuotaRefused) return { ok: false, reason: e.code, retryAfterSeconds: e.retryAfterSeconds };
    if (e instanceof DomainError) return { ok: false, reason: e.code };
    throw e;
  }
}
