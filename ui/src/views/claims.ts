// The claims inspector: a profile's access and ID token, header and claims
// as decoded by the core, each under what was verified of it (and when),
// with its time claims in words and local time beside the raw value. All
// texts come from Rust; the raw tokens never come here.
import { showClaims } from "../api";
import { button, el } from "../dom";
import type { ClaimTime, TokenView } from "../generated/dto";
import type { Navigate } from "../router";

export async function render(root: HTMLElement, navigate: Navigate, profile: string): Promise<() => void> {
  const claims = await showClaims(profile);
  root.replaceChildren(
    el("h1", {}, `Claims of ${profile}`),
    token("Access token", claims.accessToken),
    token("ID token", claims.idToken),
    el("div", { class: "actions" }, button("Back to accounts", () => navigate({ view: "accounts" }))),
  );
  return () => {};
}

function token(title: string, view: TokenView): HTMLElement {
  const section = el(
    "section",
    { class: "token" },
    el("h2", {}, title),
    el("p", { class: view.verified ? "ok trust" : "warn trust" }, view.trust),
  );
  const claims = view.claims;
  switch (claims.kind) {
    case "jwt":
      if (claims.times.length > 0) section.append(el("h3", {}, "Times"), times(claims.times));
      section.append(
        el("h3", {}, "Header"),
        el("pre", {}, JSON.stringify(claims.header, null, 2)),
        el("h3", {}, "Claims"),
        el("pre", {}, JSON.stringify(claims.claims, null, 2)),
      );
      break;
    case "opaque":
      section.append(el("p", {}, claims.why));
      break;
    case "missing":
      section.append(el("p", {}, "none cached"));
      break;
  }
  return section;
}

function times(rows: ClaimTime[]): HTMLElement {
  return el(
    "table",
    { class: "times" },
    ...rows.map((row) =>
      el("tr", {}, el("th", {}, row.claim), el("td", {}, String(row.value)), el("td", {}, row.local), el("td", {}, row.words)),
    ),
  );
}
