// The profiles: a list with Edit and Remove, and the add/edit form with the
// provider presets. The core validates; its errors show next to their field.
import { describe, isCommandError, listProfiles, removeProfile, saveProfile } from "../api";
import { button, el } from "../dom";
import type { PresetInfo, ProfileForm, ProfilesView, Registration } from "../generated/dto";
import type { Navigate } from "../router";

export async function renderList(root: HTMLElement, navigate: Navigate): Promise<() => void> {
  const view = await listProfiles();
  const status = el("p", { class: "status", role: "status" });
  const rows = view.profiles.map((profile) =>
    el(
      "li",
      { class: "card", "data-profile": profile.name },
      el("div", { class: "who" }, el("strong", {}, profile.name), ` · ${presetLabel(view, profile.provider)} · ${profile.login ?? ""}`),
      el("div", { class: "hint" }, `client ${profile.clientId} · scopes ${profile.scopes.join(" ")}`),
      el(
        "div",
        { class: "actions" },
        button("Edit…", () => navigate({ view: "editProfile", name: profile.name })),
        confirmButton(`Remove ${profile.name}`, "Click again: sign out and remove", async () => {
          try {
            await removeProfile(profile.name);
            navigate({ view: "profiles" });
          } catch (error) {
            status.textContent = describe(error);
            status.classList.add("bad");
          }
        }),
      ),
    ),
  );
  root.replaceChildren(
    el("h1", {}, "Profiles"),
    rows.length > 0 ? el("ul", { class: "cards" }, ...rows) : el("p", {}, "No profile yet."),
    status,
    el("div", { class: "actions" }, button("Add profile…", () => navigate({ view: "addProfile" }), { class: "primary" })),
  );
  return () => {};
}

/** A button that asks for a second click before `action` (no modal dialogs). */
function confirmButton(label: string, again: string, action: () => void): HTMLButtonElement {
  let armed = false;
  const node = button(label, () => {
    if (!armed) {
      armed = true;
      node.textContent = again;
      return;
    }
    action();
  }, { class: "danger" });
  return node;
}

function presetLabel(view: ProfilesView, id: string): string {
  return view.presets.find((p) => p.id === id)?.label ?? id;
}

/** "Register an app": the steps and the exact redirect URIs, each with a copy button. */
function registerGuide(preset: PresetInfo, registration: Registration): Node[] {
  const uris = registration.redirectUris.map((uri) => {
    const field = el("input", { class: "redirect-uri", readonly: "", value: uri, "aria-label": "Redirect URI" });
    const copied = el("span", { class: "hint", role: "status" });
    const copy = button("Copy", async () => {
      // a redirect URI is no secret: copying it in the page is fine
      field.select();
      try {
        await navigator.clipboard.writeText(uri);
      } catch {
        document.execCommand("copy");
      }
      copied.textContent = "copied";
    });
    return el("div", { class: "uri-row" }, field, copy, copied);
  });
  return [
    el("h2", {}, `Register an app with ${preset.label}`),
    el("ol", {}, ...registration.steps.map((step) => el("li", {}, step))),
    uris.length > 0 ? el("p", { class: "hint" }, "Redirect URI to register, exactly:") : el("p", { class: "hint" }, "No redirect URI to register for this mode."),
    ...uris,
  ];
}

/** The add (name `null`) or edit form. */
export async function renderForm(root: HTMLElement, navigate: Navigate, name: string | null): Promise<() => void> {
  const view = await listProfiles();
  const existing = name === null ? undefined : view.profiles.find((p) => p.name === name);
  if (name !== null && existing === undefined) throw new Error(`no profile named ${name}`);
  const first = view.presets[0];
  if (first === undefined) throw new Error("no presets");

  const fields = {
    provider: el("select", { id: "f-provider", name: "provider" }, ...view.presets.map((p) => el("option", { value: p.id }, p.label))),
    name: el("input", { id: "f-name", name: "name", autocomplete: "off", required: "" }),
    tenant: el("input", { id: "f-tenant", name: "tenant", placeholder: "common, organizations, a domain or a tenant id" }),
    issuer: el("input", { id: "f-issuer", name: "issuer", placeholder: "https://login.example.com" }),
    client_id: el("input", { id: "f-client_id", name: "client_id", autocomplete: "off" }),
    scopes: el("input", { id: "f-scopes", name: "scopes" }),
    login: el("select", { id: "f-login", name: "login" }, ...view.loginModes.map((m) => el("option", { value: m }, m))),
    refresh_margin: el("input", { id: "f-refresh_margin", name: "refresh_margin", type: "number", min: "0" }),
    keep_fresh: el("input", { id: "f-keep_fresh", name: "keep_fresh", type: "checkbox" }),
    access: el(
      "select",
      { id: "f-access", name: "access" },
      el("option", { value: "confirm" }, "Programs I allow (ask me about others)"),
      el("option", { value: "any" }, "Any program of mine"),
    ),
    client_secret: el("input", { id: "f-client_secret", name: "client_secret", type: "password", autocomplete: "off" }),
  };
  const errors = new Map<string, HTMLElement>();
  const row = (key: keyof typeof fields, label: string, hint = "") => {
    const error = el("p", { class: "field-error", "data-for": key, hidden: "" });
    errors.set(key, error);
    const wrapper = el("div", { class: "field", "data-field": key }, el("label", { for: `f-${key}` }, label), fields[key], hint ? el("p", { class: "hint" }, hint) : null, error);
    return wrapper;
  };
  const rows = {
    tenant: row("tenant", "Tenant"),
    issuer: row("issuer", "Issuer URL", "https, or http to a loopback address"),
  };
  const scopesHint = el("p", { class: "hint" });
  const register = el("section", { class: "register", id: "register", "aria-live": "polite" });

  const preset = (): PresetInfo => view.presets.find((p) => p.id === fields.provider.value) ?? first;
  const onPreset = () => {
    const p = preset();
    rows.tenant.hidden = p.needs !== "tenant";
    rows.issuer.hidden = p.needs !== "issuer";
    scopesHint.textContent = `space-separated; empty: ${p.defaultScopes.join(" ")}`;
    if (existing === undefined) fields.login.value = p.defaultLogin;
    onLogin();
  };
  const onLogin = () => {
    const registration = preset().registrations.find((r) => r.login === fields.login.value);
    register.replaceChildren(...(registration ? registerGuide(preset(), registration) : []));
  };
  fields.provider.addEventListener("change", onPreset);
  fields.login.addEventListener("change", onLogin);

  if (existing) {
    fields.provider.value = existing.provider;
    fields.name.value = existing.name;
    fields.name.readOnly = true;
    fields.tenant.value = existing.tenant ?? "";
    fields.issuer.value = existing.issuer ?? "";
    fields.client_id.value = existing.clientId;
    fields.scopes.value = existing.scopes.join(" ");
    fields.login.value = existing.login ?? preset().defaultLogin;
    fields.refresh_margin.value = String(existing.refreshMargin ?? view.defaultRefreshMargin);
    fields.keep_fresh.checked = existing.keepFresh;
    fields.access.value = existing.access;
  } else {
    fields.access.value = "confirm";
    fields.refresh_margin.value = String(view.defaultRefreshMargin);
  }
  onPreset();

  const formError = el("p", { class: "field-error", role: "alert", hidden: "" });
  const form = el(
    "form",
    { id: "profile-form", novalidate: "" },
    row("provider", "Provider"),
    row("name", "Profile name", "letters, digits, - _ . (used on the command line)"),
    rows.tenant,
    rows.issuer,
    row("client_id", "Client ID"),
    (() => {
      const scopes = row("scopes", "Scopes");
      scopes.insertBefore(scopesHint, scopes.lastChild);
      return scopes;
    })(),
    row("login", "Sign in with"),
    register,
    row("refresh_margin", "Refresh margin (seconds before expiry)"),
    row("keep_fresh", "Keep fresh (refresh before expiry even when nobody asks)"),
    row("access", "Who can take its tokens", "the tray asks you the first time a program wants a token; “Always” remembers it for that binary"),
    row(
      "client_secret",
      "Client secret",
      existing ? "only for confidential clients; leave empty to keep the stored one" : "only for confidential clients (client_credentials); stored in the vault, never in the profiles file",
    ),
    formError,
    el("div", { class: "actions" }, el("button", { type: "submit", class: "primary" }, existing ? "Save" : "Add profile"), button("Cancel", () => navigate({ view: "profiles" }))),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const error of [...errors.values(), formError]) error.hidden = true;
    const p = preset();
    const margin = fields.refresh_margin.value.trim();
    const data: ProfileForm = {
      name: fields.name.value,
      provider: p.id,
      tenant: p.needs === "tenant" ? fields.tenant.value : null,
      issuer: p.needs === "issuer" ? fields.issuer.value : null,
      clientId: fields.client_id.value,
      scopes: fields.scopes.value.split(/\s+/).filter((s) => s !== ""),
      login: fields.login.value,
      refreshMargin: margin === "" ? null : Number(margin),
      keepFresh: fields.keep_fresh.checked,
      access: fields.access.value,
    };
    const secret = fields.client_secret.value;
    try {
      await saveProfile(existing ? existing.name : null, data, secret === "" ? null : secret);
      fields.client_secret.value = "";
      navigate({ view: "profiles" });
    } catch (error) {
      const key = isCommandError(error) ? error.field : undefined;
      const target = key ? errors.get(key) : undefined;
      const line = target ?? formError;
      line.textContent = describe(error);
      line.hidden = false;
      if (key && key in fields) fields[key as keyof typeof fields].focus();
    }
  });
  root.replaceChildren(el("h1", {}, existing ? `Edit ${existing.name}` : "Add a profile"), form);
  (existing ? fields.client_id : fields.provider).focus({ preventScroll: true });
  return () => {
    fields.client_secret.value = "";
  };
}
