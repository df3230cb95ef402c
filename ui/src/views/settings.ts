// The settings: clipboard clear delay, reminder lead time, the refresh
// margin new profiles start with, start at login. Saved by the app to
// settings.toml; an error shows next to its field.
import { describe, getSettings, isCommandError, saveSettings } from "../api";
import { el } from "../dom";
import type { SettingsForm } from "../generated/dto";

type NumberKey = "clipboard_clear_secs" | "reminder_lead_secs" | "default_refresh_margin_secs";

const NUMBERS: [NumberKey, string, string][] = [
  ["clipboard_clear_secs", "Clear a copied token from the clipboard after (seconds)", "only if the clipboard still holds it"],
  ["reminder_lead_secs", "Remind me before a copied token expires (seconds)", ""],
  ["default_refresh_margin_secs", "Refresh margin for new profiles (seconds before expiry)", ""],
];

export async function render(root: HTMLElement): Promise<() => void> {
  const view = await getSettings();
  const values: Record<NumberKey, number> = {
    clipboard_clear_secs: view.values.clipboardClearSecs,
    reminder_lead_secs: view.values.reminderLeadSecs,
    default_refresh_margin_secs: view.values.defaultRefreshMarginSecs,
  };
  const inputs = new Map<string, HTMLInputElement>();
  const errors = new Map<string, HTMLElement>();
  const field = (key: string, label: string, input: HTMLInputElement, hint: string) => {
    inputs.set(key, input);
    const error = el("p", { class: "field-error", hidden: "" });
    errors.set(key, error);
    const overridden = view.overridden.includes(key)
      ? el("p", { class: "hint warn" }, "overridden by an environment variable while the app runs")
      : null;
    return el("div", { class: "field" }, el("label", { for: `s-${key}` }, label), input, hint ? el("p", { class: "hint" }, hint) : null, overridden, error);
  };
  const numberRows = NUMBERS.map(([key, label, hint]) =>
    field(key, label, el("input", { id: `s-${key}`, type: "number", min: "0", value: String(values[key]) }), hint),
  );
  const autostart = el("input", { id: "s-start_at_login", type: "checkbox" });
  autostart.checked = view.values.startAtLogin;
  const newPrograms = el("input", { id: "s-notify_new_programs", type: "checkbox" });
  newPrograms.checked = view.values.notifyNewPrograms;
  const saved = el("p", { class: "status", role: "status" });
  const form = el(
    "form",
    { id: "settings-form", novalidate: "" },
    ...numberRows,
    el("div", { class: "field" }, el("label", { for: "s-notify_new_programs" }, newPrograms, " Tell me when a new program takes a token of a profile open to any program")),
    field("start_at_login", "Start at login", autostart, ""),
    saved,
    el("div", { class: "actions" }, el("button", { type: "submit", class: "primary" }, "Save")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const error of errors.values()) error.hidden = true;
    saved.textContent = "";
    const number = (key: NumberKey) => Number(inputs.get(key)?.value ?? NaN);
    const data: SettingsForm = {
      clipboardClearSecs: number("clipboard_clear_secs"),
      reminderLeadSecs: number("reminder_lead_secs"),
      defaultRefreshMarginSecs: number("default_refresh_margin_secs"),
      notifyNewPrograms: newPrograms.checked,
      startAtLogin: autostart.checked,
    };
    try {
      await saveSettings(data);
      saved.textContent = `Saved to ${view.file}`;
    } catch (error) {
      const line = (isCommandError(error) && error.field && errors.get(error.field)) || saved;
      line.textContent = describe(error);
      line.hidden = false;
    }
  });
  root.replaceChildren(
    el("h1", {}, "Settings"),
    ...(view.problem ? [el("p", { class: "bad", role: "alert" }, `Not applied: ${view.problem}`)] : []),
    form,
  );
  inputs.get("clipboard_clear_secs")?.focus();
  return () => {};
}
