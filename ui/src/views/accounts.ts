// The accounts list: each account with its state and a live countdown, and
// the actions of the tray's submenu (they run in Rust: the token never
// comes here). Texts and labels come from Rust, worded as in the tray
// menu. An empty profile list shows the first-run panel.
import { accountAction, describe, listAccounts, signIn, startDemo } from "../api";
import { atAppTime, clockOffset } from "../clock";
import { button, el } from "../dom";
import type { AccountAction, AccountRow, AccountStatus, AccountsView, ActionButton } from "../generated/dto";
import type { Navigate } from "../router";

// What the status line says once an action is done (the labels themselves
// come from Rust, as the tray menu has them).
const DONE: Record<AccountAction, string> = {
  copyAccessToken: "Access token copied (cleared from the clipboard soon)",
  copyBearerHeader: "Authorization header copied (cleared from the clipboard soon)",
  copyIdToken: "ID token copied (cleared from the clipboard soon)",
  refreshNow: "Refreshed",
  signOut: "Signed out",
};

const STYLE: Record<AccountStatus, string> = {
  signedIn: "ok countdown",
  refreshing: "",
  refreshFailed: "warn",
  signInRequired: "bad",
};

export async function render(root: HTMLElement, navigate: Navigate): Promise<() => void> {
  const view = await listAccounts();
  root.replaceChildren(...content(view, navigate));
  // The countdowns stay live: when the app says a text changes next, ask
  // it for the texts again (a change of accounts re-renders the view).
  let cancel = () => {};
  const follow = (next: AccountsView) => {
    cancel = atAppTime(next.nextChange, clockOffset(next.now), async () => {
      try {
        const later = await listAccounts();
        for (const account of later.accounts) {
          const node = root.querySelector<HTMLElement>(`[data-status-of="${CSS.escape(account.profile)}"]`);
          if (node) node.textContent = account.statusText;
        }
        follow(later);
      } catch {
        // the next accounts-changed event renders the view again
      }
    });
  };
  follow(view);
  return () => cancel();
}

function content(view: AccountsView, navigate: Navigate): Node[] {
  if (view.profiles.length === 0 && view.accounts.length === 0) {
    return [firstRun(navigate)];
  }
  const status = el("p", { class: "status", role: "status", id: "action-status" });
  const rows = view.accounts.map((account) => accountCard(account, status, navigate));
  const others = view.signIns.map(({ profile, label }) =>
    el(
      "li",
      { class: "card", "data-profile": profile },
      el("div", { class: "who" }, el("strong", {}, profile), " — not signed in"),
      el("div", { class: "actions" }, button(label, () => run(status, "Sign-in started", () => signIn(profile)))),
    ),
  );
  return [
    el("h1", {}, "Accounts"),
    el("ul", { class: "cards", id: "accounts" }, ...rows, ...others),
    status,
    el("div", { class: "actions" }, button("Add account…", () => navigate({ view: "addProfile" }))),
  ];
}

function accountCard(account: AccountRow, status: HTMLElement, navigate: Navigate): HTMLElement {
  const { profile } = account;
  const line = el("span", { class: STYLE[account.status], "data-status-of": profile }, account.statusText);
  const act = ({ action, label }: ActionButton): HTMLButtonElement => {
    switch (action.kind) {
      case "account":
        return button(label, () => run(status, DONE[action.action], () => accountAction(profile, action.action)), action.action === "signOut" ? { class: "danger" } : {});
      case "signIn":
        return button(label, () => run(status, "Sign-in started", () => signIn(profile)));
      case "showClaims":
        return button(label, () => navigate({ view: "claims", profile }));
    }
  };
  return el(
    "li",
    { class: "card", "data-profile": profile },
    el("div", { class: "who" }, el("strong", {}, account.user), ` · ${profile} · `, line),
    el("div", { class: "actions" }, ...account.actions.map(act)),
  );
}

/** Runs a command; says what happened in the status line. */
async function run(status: HTMLElement, done: string, command: () => Promise<void>): Promise<void> {
  status.textContent = "…";
  status.classList.remove("bad");
  try {
    await command();
    status.textContent = done;
  } catch (error) {
    status.textContent = describe(error);
    status.classList.add("bad");
  }
}

/** What a newcomer sees before any profile exists. */
function firstRun(navigate: Navigate): HTMLElement {
  const status = el("p", { class: "status", role: "status", id: "first-run-status" });
  return el(
    "section",
    { class: "first-run", id: "first-run" },
    el("h1", {}, "Welcome to Tokentray"),
    el(
      "p",
      {},
      "Tokentray keeps OAuth access tokens fresh and ready to copy, with the tokens in your OS vault. " +
        "Add a profile for your identity provider (Microsoft Entra ID, Google, GitHub or any OpenID Connect issuer), then sign in.",
    ),
    el(
      "p",
      {},
      "No cloud account at hand? The demo provider is built into Tokentray and runs on this machine only: " +
        "sign in as alice (password demo), then copy tokens, watch them expire and get reminded.",
    ),
    el(
      "div",
      { class: "actions", id: "first-run-actions" },
      button(
        "Try it with a local demo provider",
        () =>
          run(status, "Demo provider started: sign in to demo", async () => {
            await startDemo();
          }),
        { accesskey: "d", id: "start-demo" },
      ),
      button("Add a profile…", () => navigate({ view: "addProfile" })),
    ),
    status,
  );
}
