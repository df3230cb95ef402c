// The Activity view: who may take each profile's tokens (rules, each with
// Revoke) and who took them (the audit trail, newest first). No token here.
import { describe, listActivity, revokeRule } from "../api";
import { button, el } from "../dom";

export async function render(root: HTMLElement): Promise<() => void> {
  const view = await listActivity();
  const status = el("p", { class: "status", role: "status" });
  const access = view.access.map((profile) =>
    el(
      "li",
      { class: "card", "data-profile": profile.profile },
      el("div", { class: "who" }, el("strong", {}, profile.profile), ` · ${profile.summary}`),
      profile.rules.length === 0
        ? el("p", { class: "hint" }, "No program allowed yet.")
        : el(
            "ul",
            { class: "rules" },
            ...profile.rules.map((rule) =>
              el(
                "li",
                { class: rule.expired ? "rule expired" : "rule" },
                el("span", {}, rule.text + (rule.expired ? " (ended)" : "")),
                button("Revoke", async () => {
                  try {
                    await revokeRule(profile.profile, rule);
                    await render(root);
                  } catch (error) {
                    status.textContent = describe(error);
                    status.classList.add("bad");
                  }
                }, { class: "danger" }),
              ),
            ),
          ),
    ),
  );
  const rows = view.entries.map((entry) =>
    el(
      "tr",
      { class: entry.served ? "served" : "refused" },
      el("td", {}, new Date(entry.time).toLocaleString()),
      el("td", {}, entry.account ? `${entry.profile} (${entry.account})` : entry.profile),
      el("td", {}, entry.what),
      el("td", { class: entry.served ? "good" : "bad" }, entry.decision),
      el("td", {}, entry.program),
      el("td", { class: "hint" }, entry.rule),
    ),
  );
  root.replaceChildren(
    el("h1", {}, "Activity"),
    el("h2", {}, "Who may take tokens"),
    access.length > 0 ? el("ul", { class: "cards" }, ...access) : el("p", {}, "No profile yet."),
    status,
    el("h2", {}, "Who took tokens"),
    rows.length > 0
      ? el(
          "table",
          { class: "activity" },
          el("thead", {}, el("tr", {}, ...["When", "Profile", "What", "Decision", "Program", "Why"].map((h) => el("th", {}, h)))),
          el("tbody", {}, ...rows),
        )
      : el("p", {}, "Nothing yet: programs that take tokens through Tokentray show here."),
    el("p", { class: "hint" }, `The audit trail: ${view.file} (also \`tokentray audit\`).`),
  );
  return () => {};
}
