// The claims inspector: a profile's access and ID token, header and claims
// as decoded by the core. NOT verified; the raw tokens never come here.
import { showClaims } from "../api";
import { button, el } from "../dom";
import type { TokenClaims } from "../generated/dto";
import type { Navigate } from "../router";

export async function render(root: HTMLElement, navigate: Navigate, profile: string): Promise<() => void> {
  const claims = await showClaims(profile);
  root.replaceChildren(
    el("h1", {}, `Claims of ${profile}`),
    el("p", { class: "warn not-verified" }, claims.notVerified),
    token("Access token", claims.accessToken),
    token("ID token", claims.idToken),
    el("div", { class: "actions" }, button("Back to accounts", () => navigate({ view: "accounts" }))),
  );
  return () => {};
}

function token(title: string, claims: TokenClaims): HTMLElement {
  const section = el("section", { class: "token" }, el("h2", {}, title));
  switch (claims.kind) {
    case "jwt":
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
