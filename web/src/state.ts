import { h } from "./dom.js";

/** The three states every list has besides "here is the data". */
export function loadingState(text: string): HTMLElement {
  return h(
    "p",
    { class: "state state-loading", role: "status" },
    h("span", { class: "spinner", "aria-hidden": "true" }),
    text,
  );
}

export function emptyState(title: string, hint?: string): HTMLElement {
  return h(
    "div",
    { class: "state state-empty" },
    h("p", { class: "state-title" }, title),
    hint ? h("p", { class: "muted" }, hint) : null,
  );
}

export function errorState(message: string, retry?: () => void): HTMLElement {
  return h(
    "div",
    { class: "state state-error", role: "alert" },
    h("p", {}, message),
    retry ? h("button", { type: "button", class: "button secondary", onclick: retry }, "Try again") : null,
  );
}

/** A one-line notice in the page's polite live region (approved, revoked, copied …). */
let noticeTimer: number | undefined;
export function announce(message: string): void {
  const region = document.getElementById("notice");
  if (!region) return;
  region.textContent = "";
  window.clearTimeout(noticeTimer);
  // A fresh text node after clearing makes screen readers announce repeats too; the notice goes after a few seconds.
  noticeTimer = window.setTimeout(() => {
    region.textContent = message;
    noticeTimer = window.setTimeout(() => (region.textContent = ""), 5000);
  }, 30);
}
