// Accounts window entry point: shows one view at a time, re-renders it when
// the app says the accounts changed, and goes where the tray asks.
import "./style.css";
import { listen } from "@tauri-apps/api/event";
import { appInfo, describe, takeView } from "./api";
import { byId } from "./dom";
import { ACCOUNTS_CHANGED, NAVIGATE, type View } from "./generated/dto";
import * as accounts from "./views/accounts";
import * as activity from "./views/activity";
import * as claims from "./views/claims";
import * as importView from "./views/import";
import * as profiles from "./views/profiles";
import * as settings from "./views/settings";

const root = byId("view");
const errorLine = byId("error");
let current: View = { view: "accounts" };
let cleanup: () => void = () => {};

/** Shows `view`, from its top; `again`: the same view redrawn, where it was. */
async function show(view: View, again = false): Promise<void> {
  current = view;
  cleanup();
  cleanup = () => {};
  errorLine.hidden = true;
  for (const item of document.querySelectorAll<HTMLElement>("#nav [data-view]")) {
    item.classList.toggle("active", item.dataset.view === view.view);
  }
  try {
    switch (view.view) {
      case "accounts":
        cleanup = await accounts.render(root, navigate);
        break;
      case "claims":
        cleanup = await claims.render(root, navigate, view.profile);
        break;
      case "profiles":
        cleanup = await profiles.renderList(root, navigate);
        break;
      case "addProfile":
        cleanup = await profiles.renderForm(root, navigate, null);
        break;
      case "editProfile":
        cleanup = await profiles.renderForm(root, navigate, view.name);
        break;
      case "settings":
        cleanup = await settings.render(root);
        break;
      case "import":
        cleanup = importView.render(root);
        break;
      case "activity":
        cleanup = await activity.render(root);
        break;
    }
    if (!again) window.scrollTo(0, 0);
  } catch (error) {
    // nothing stale stays on screen (the claims of a signed-out account)
    root.replaceChildren();
    errorLine.textContent = describe(error);
    errorLine.hidden = false;
  }
}

function navigate(view: View): void {
  void show(view);
}

async function main(): Promise<void> {
  for (const item of document.querySelectorAll<HTMLElement>("#nav [data-view]")) {
    item.addEventListener("click", () => navigate({ view: item.dataset.view } as View));
  }
  await listen(ACCOUNTS_CHANGED, () => {
    if (current.view === "accounts" || current.view === "claims") void show(current, true);
  });
  await listen(NAVIGATE, async () => navigate(await takeView()));
  try {
    const info = await appInfo();
    byId("footer").textContent = `Tokentray ${info.version} · profiles in ${info.configDir}`;
  } catch (error) {
    byId("footer").textContent = describe(error);
  }
  navigate(await takeView());
}

void main();
