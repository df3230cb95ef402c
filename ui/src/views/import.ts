// Import from an MSAL token cache (msal_token_cache.json, Azure CLI's
// cache): a dry run first, then the import with every account proven by a
// refresh, optionally shredding the plaintext file. The report names
// accounts and profiles, never a token.
import { describe, importMsal } from "../api";
import { button, el } from "../dom";
import type { ImportReport } from "../generated/dto";

const STATUS: Record<string, string> = {
  imported: "imported",
  would_import: "would be imported",
  already_present: "already present",
  rolled_back: "not imported (another account failed)",
  failed: "failed",
};

export function render(root: HTMLElement): () => void {
  const path = el("input", { id: "i-path", placeholder: "~/.azure/msal_token_cache.json", autocomplete: "off" });
  const issuer = el("input", { id: "i-issuer", placeholder: "only for a non-Microsoft provider: https://login.example.com/…" });
  const shred = el("input", { id: "i-shred", type: "checkbox" });
  const output = el("div", { id: "import-report", role: "status" });
  let checked: string | null = null;
  const importButton = button("Import", () => void run(false), { class: "primary" });
  importButton.disabled = true;
  path.addEventListener("input", () => {
    checked = null;
    importButton.disabled = true;
  });

  const run = async (dryRun: boolean) => {
    output.replaceChildren(el("p", {}, dryRun ? "Reading the cache…" : "Importing and verifying each account…"));
    try {
      const report = await importMsal(path.value.trim(), issuer.value.trim() || null, dryRun, !dryRun && shred.checked);
      output.replaceChildren(...show(report));
      const allWork = report.accounts.every((a) => a.status === "would_import" || a.status === "already_present");
      checked = dryRun && allWork ? path.value : null;
      importButton.disabled = checked === null;
    } catch (error) {
      output.replaceChildren(el("p", { class: "bad" }, describe(error)));
    }
  };

  root.replaceChildren(
    el("h1", {}, "Import from an MSAL token cache"),
    el(
      "p",
      { class: "hint" },
      "Takes the accounts of a plaintext MSAL cache over into profiles and the OS vault, so you keep working without signing in again. Start with a dry run.",
    ),
    el(
      "form",
      { id: "import-form", novalidate: "" },
      el("label", { for: "i-path" }, "Cache file"),
      path,
      el("label", { for: "i-issuer" }, "Issuer URL (optional)"),
      issuer,
      el("label", { for: "i-shred" }, shred, " Shred the file afterwards (only if every account is imported and verified)"),
      el("div", { class: "actions" }, button("Dry run", () => void run(true)), importButton),
    ),
    output,
  );
  path.focus();
  return () => {};
}

function show(report: ImportReport): Node[] {
  const rows = report.accounts.map((a) =>
    el(
      "li",
      { class: "card" },
      el("div", { class: "who" }, el("strong", {}, a.account), ` · client ${a.clientId} · ${a.environment}`),
      el(
        "div",
        { class: a.status === "failed" ? "bad" : "ok" },
        `${STATUS[a.status] ?? a.status}${a.profile ? ` → profile ${a.profile}${a.profileCreated ? " (new)" : ""}` : ""}${a.verified ? ", verified by a refresh" : ""}`,
      ),
      a.reason ? el("div", { class: "hint" }, a.reason) : null,
    ),
  );
  return [
    el("h2", {}, report.dryRun ? "Dry run: nothing was changed" : "Import"),
    el("ul", { class: "cards" }, ...rows),
    el("p", { class: report.plaintextRemains ? "warn" : "ok" }, report.note),
  ];
}
