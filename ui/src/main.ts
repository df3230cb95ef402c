// Accounts window entry point: for now it shows what `app_info` returns.
import "./style.css";
import { appInfo, isCommandError } from "./api";

function byId(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el;
}

async function main(): Promise<void> {
  try {
    const info = await appInfo();
    byId("version").textContent = info.version;
    byId("config-dir").textContent = info.configDir;
    byId("info").hidden = false;
  } catch (err) {
    const error = byId("error");
    error.textContent = isCommandError(err) ? `${err.kind}: ${err.message}` : String(err);
    error.hidden = false;
  }
}

void main();
