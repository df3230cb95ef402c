// Consent dialog entry point: shows the one question the app asks now
// (which program wants what of which profile), counts down to the
// automatic "Deny", and sends the answer with the question's id. The app
// reloads this page when it asks the next question and closes the window
// when none is left. Every text goes in through textContent.
import "./style.css";
import "./consent.css";
import { consentAnswer, consentQuestion, describe } from "./api";
import { button, byId, el } from "./dom";
import type { ConsentChoice, ConsentView } from "./generated/dto";

const root = byId("question");
const errorLine = byId("error");

const CHOICES: { choice: ConsentChoice; label: string; key: string; kind?: string }[] = [
  { choice: "deny", label: "Deny", key: "d", kind: "danger" },
  { choice: "once", label: "Allow once", key: "o" },
  { choice: "forHours", label: "Allow for 8 hours", key: "h" },
  { choice: "always", label: "Always allow this program", key: "a" },
];

function headline(q: ConsentView): string {
  return q.action === "sign-out"
    ? `Allow ${q.program} to sign out the account of ${q.profile}?`
    : `Allow ${q.program} to take a token of ${q.profile}?`;
}

/** The facts, as label and value rows; rows the OS did not tell are left out. */
function facts(q: ConsentView): [string, string][] {
  const rows: [string, string | null][] = [
    ["Program", `${q.program} (pid ${q.pid})`],
    ["Path", q.path ?? "unknown: the OS does not tell"],
    ["Script", q.script],
    ["Through SSH", q.ssh],
    ["Started by", q.parents.length > 0 ? q.parents.join(" ← ") : null],
    ["Profile", q.profile],
    ["Account", q.account ?? "not signed in"],
    ["Scopes", q.scopes.length > 0 ? q.scopes.join(" ") : "the profile's scopes"],
  ];
  return rows.filter((row): row is [string, string] => row[1] !== null);
}

function waitingLine(waiting: number): string {
  if (waiting === 0) return "";
  return waiting === 1 ? "1 more program is waiting." : `${waiting} more programs are waiting.`;
}

async function render(): Promise<void> {
  const q = await consentQuestion();
  if (q === null) {
    root.replaceChildren(el("p", {}, "No program is asking now."));
    return;
  }
  const list = el("dl", { class: "facts" });
  for (const [label, value] of facts(q)) list.append(el("dt", {}, label), el("dd", {}, value));
  const countdown = el("p", { class: "countdown" });
  const buttons = CHOICES.map(({ choice, label, key, kind }) =>
    button(label, () => void answer(q.id, choice, buttons, countdown), {
      accesskey: key,
      ...(kind ? { class: kind } : {}),
    }),
  );
  // the desktop's icon for the program, a hint beside its name (the path
  // below is what identifies it)
  const icon = q.icon === null ? null : el("img", { class: "program-icon", src: q.icon, alt: "" });
  root.replaceChildren(
    el("h1", {}, icon, headline(q)),
    list,
    el("div", { class: "actions" }, ...buttons),
    el(
      "p",
      { class: "hint" },
      "“Always” and “8 hours” remember this program’s path and its binary’s SHA-256: a replaced binary is asked about again. Rules: tokentray access list.",
    ),
    countdown,
    el("p", { class: "hint" }, waitingLine(q.waiting)),
  );
  countDown(q.secondsLeft, countdown, buttons);
}

/** Counts down to the automatic "Deny" (the app ends the question then). */
function countDown(seconds: number, line: HTMLElement, buttons: HTMLButtonElement[]): void {
  let left = seconds;
  const show = (): void => {
    line.textContent = left > 0 ? `Denied in ${left} s unless you answer.` : "Nobody answered: denied.";
  };
  show();
  const timer = window.setInterval(() => {
    left -= 1;
    show();
    if (left <= 0) {
      window.clearInterval(timer);
      for (const b of buttons) b.disabled = true;
    }
  }, 1000);
}

async function answer(
  id: string,
  choice: ConsentChoice,
  buttons: HTMLButtonElement[],
  line: HTMLElement,
): Promise<void> {
  for (const b of buttons) b.disabled = true;
  try {
    await consentAnswer(id, choice);
    line.textContent = "Answered.";
  } catch (error) {
    // another question is shown by now (or none): show what is asked now
    errorLine.textContent = describe(error);
    errorLine.hidden = false;
    await render();
  }
}

render().catch((error: unknown) => {
  errorLine.textContent = describe(error);
  errorLine.hidden = false;
});
