/**
 * The pages work without JavaScript; this only adds conveniences. Served as a file (not
 * inline) so the Content-Security-Policy can forbid inline scripts.
 */
export const ENHANCE_JS = `"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // After a failed save, start at the error summary: its links lead to each field.
  var summary = document.getElementById("form-errors");
  if (summary) { summary.tabIndex = -1; summary.focus(); }
  // Shows the id an empty "Id" field will get, with the rule of slugFromName (shared/ids.ts).
  var name = document.getElementById("f-name"), id = document.getElementById("f-id");
  if (name && id && !id.readOnly) {
    var show = function () {
      id.placeholder = name.value.toLowerCase().normalize("NFKD").replace(/[\\u0300-\\u036f]/g, "")
        .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 63);
    };
    name.addEventListener("input", show);
    show();
  }
  // Choosing a connector kind loads its form at once (without JavaScript, "Change kind" does).
  var kindSwitch = document.getElementById("kind-switch");
  if (kindSwitch) {
    kindSwitch.querySelector("select").addEventListener("change", function () { kindSwitch.submit(); });
  }
});
`;
