// The accounts list: each account with its state and a live countdown, and
// the actions of the tray's submenu (they run in Rust: the token never
// comes here). An empty profile list shows the first-run panel.
import { accountAction, describe, listAccounts, signIn, startDemo } from "../api";
import { appNow, expiryText } from "../clock";
import { button, el } from "../dom";
import type { AccountAction, AccountRow, AccountsView } from "../generated/dto";
import type { Navigate } from "../router";

const ACTIONS: [AccountAction, string][] = [
  ["copyAccessToken", "Copy access token"],
  ["copyBearerHeader", "Copy as header"],
  ["copyIdToken", "Copy ID token"],
  ["refreshNow", "Refresh now"],
];

const DONE: Record<AccountAction, string> = {
  copyAccessToken: "Access token copied (cleared from the clipboard soon)",
  copyBearerHeader: "Authorization header copied (cleared from the clipboard soon)",
  copyIdToken: "ID token copied (cleared from the clipboard soon)",
  refreshNow: "Refreshed",
  signOut: "Signed out",
};

export async function render(root: HTMLElement, navigate: Navigate): Promise<() => void> {
  const view = await listAccounts();
  const offset = view.now - Math.floor(Date.now() / 1000);
  root.replaceChildren(...content(view, navigate));
  const tick = () => {
    const now = appNow(offset);
    for (const node of root.querySelectorAll<HTMLElement>("[data-expires-at]")) {
      node.textContent = expiryText(Number(node.dataset.expiresAt), now);
    }
  };
  tick();
  const timer = window.setInterval(tick, 1000);
  return () => window.clearInterval(timer);
}

function content(view: AccountsView, navigate: Navigate): Node[] {
  if (view.profiles.length === 0 && view.accounts.length === 0) {
    return [firstRun(navigate)];
  }
  const signedIn = new Set(view.accounts.map((a) => a.profile));
  const status = el("p", { class: "status", role: "status", id: "action-status" });
  const rows = view.accounts.map((account) => accountCard(account, status, navigate));
  const others = view.profiles
    .filter((profile) => !signedIn.has(profile))
    .map((profile) =>
      el(
        "li",
        { class: "card", "data-profile": profile },
        el("div", { class: "who" }, el("strong", {}, profile), " — not signed in"),
        el("div", { class: "actions" }, button(`Sign in to ${profile}…`, () => run(status, "Sign-in started", () => signIn(profile)))),
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
  const state = account.status;
  let line: HTMLElement;
  switch (state.state) {
    case "signedIn":
      line =
        state.expiresAt === null
          ? el("span", { class: "ok" }, "signed in")
          : el("span", { class: "ok countdown", "data-expires-at": String(state.expiresAt) });
      break;
    case "refreshing":
      line = el("span", {}, "refreshing…");
      break;
    case "refreshFailed":
      line = el("span", { class: "warn" }, `refresh failed (${state.code})`);
      break;
    case "signInRequired":
      line = el("span", { class: "bad" }, "sign-in required");
      break;
  }
  const act = (action: AccountAction) => () => run(status, DONE[action], () => accountAction(profile, action));
  const buttons =
    state.state === "signInRequired"
      ? [button(`Sign in to ${profile} again…`, () => run(status, "Sign-in started", () => signIn(profile)))]
      : [
          ...ACTIONS.map(([action, label]) => button(label, act(action))),
          button("Show claims…", () => navigate({ view: "claims", profile })),
        ];
  buttons.push(button("Sign out", act("signOut"), { class: "danger" }));
  return el(
    "li",
    { class: "card", "data-profile": profile },
    el("div", { class: "who" }, el("strong", {}, account.user), ` · ${profile} · `, line),
    el("div", { class: "actions" }, ...buttons),
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
      "No cloud account at hand? The local demo provider runs on this machine (it needs Node.js): " +
        "sign in with any name and password, then copy tokens, watch them expire and get reminded.",
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
