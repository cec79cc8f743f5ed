import { api, ApiError, setCsrf, whenSignedOut, type ConsoleSessionInfo } from "./api.js";
import { h, replace } from "./dom.js";
import { LiveFeed, type LiveStatus } from "./live.js";
import { announce } from "./state.js";
import { ActionsView } from "./views/actions.js";
import { AuditView } from "./views/audit.js";
import { ChatView } from "./views/chat.js";
import { InvitesView } from "./views/invites.js";
import { PairedView } from "./views/paired.js";
import { PendingView } from "./views/pending.js";
import { SessionsView } from "./views/sessions.js";
import { signInView } from "./views/signin.js";
import type { View } from "./views/view.js";

const root = document.getElementById("app")!;
let feed: LiveFeed | null = null;

const STATUS_TEXT: Record<LiveStatus, string> = {
  connecting: "Connecting…",
  live: "Live",
  offline: "Offline — retrying",
};

function showSignIn(notice?: string): void {
  feed?.stop();
  feed = null;
  setCsrf(null);
  window.removeEventListener("hashchange", onHashChange);
  replace(root, signInView(startConsole, notice));
  document.getElementById("token")?.focus();
}

let route: (() => void) | null = null;
function onHashChange(): void {
  route?.();
}

function startConsole(info: ConsoleSessionInfo): void {
  setCsrf(info.csrf);
  const badge = h("span", { class: "count", hidden: true });
  const actionsBadge = h("span", { class: "count", hidden: true });
  const views: View[] = [
    new PendingView((count) => {
      badge.textContent = String(count);
      badge.hidden = count === 0;
      badge.setAttribute("aria-label", `${count} waiting`);
    }),
    new ActionsView((count) => {
      actionsBadge.textContent = String(count);
      actionsBadge.hidden = count === 0;
      actionsBadge.setAttribute("aria-label", `${count} waiting`);
    }),
    new PairedView(),
    new InvitesView(info.channelTypes ?? []),
    new SessionsView(),
    new AuditView(),
    new ChatView(),
  ];
  const links = views.map((view) =>
    h(
      "a",
      { href: `#${view.id}`, "data-view": view.id },
      view.label,
      view.id === "pending" ? badge : view.id === "actions" ? actionsBadge : null,
    ),
  );
  const status = h(
    "span",
    { class: "live-status", "data-status": "connecting", role: "status" },
    STATUS_TEXT.connecting,
  );
  const signOut = h("button", { type: "button", class: "button ghost" }, "Sign out");
  signOut.addEventListener("click", async () => {
    signOut.disabled = true;
    try {
      await api("POST", "/console/logout");
    } catch {
      // Signed out locally either way; the server session also ends on its own.
    }
    showSignIn("You are signed out.");
  });
  const main = h("main", { id: "main", class: "content" }, ...views.map((v) => v.element));
  replace(
    root,
    h("a", { href: "#main", class: "skip-link" }, "Skip to content"),
    h(
      "header",
      { class: "topbar" },
      h("p", { class: "brand" }, "Gatehouse"),
      status,
      h("span", { class: "who" }, `${info.principal.userId} · ${info.principal.role}`),
      signOut,
    ),
    h("nav", { class: "tabs", "aria-label": "Console sections" }, ...links),
    main,
    h("div", { id: "notice", class: "notice", role: "status", "aria-live": "polite" }),
  );

  let current: View | null = null;
  route = () => {
    const wanted = location.hash.replace(/^#/, "");
    if (wanted === "main") return;
    const view = views.find((v) => v.id === wanted) ?? views[0]!;
    if (current !== view) {
      current?.hide?.();
      if (current) current.element.hidden = true;
      view.element.hidden = false;
      current = view;
      view.show();
      for (const link of links) {
        if (link.dataset.view === view.id) link.setAttribute("aria-current", "page");
        else link.removeAttribute("aria-current");
      }
      document.title = `${view.label} · Gatehouse`;
      if (wanted !== "") view.element.querySelector<HTMLElement>("h2")?.focus();
    }
  };
  window.addEventListener("hashchange", onHashChange);
  route();

  feed = new LiveFeed(
    (event, payload) => {
      // A channel's notice for the owner (e.g. a WhatsApp card refused outside the 24-hour window) is announced as it comes.
      if (event === "channel.notice") announce(noticeText(payload));
      for (const view of views) view.onEvent?.(event);
    },
    (state) => {
      status.dataset.status = state;
      status.textContent = STATUS_TEXT[state];
    },
  );
  feed.start();
}

whenSignedOut(() => showSignIn("Your session has ended. Sign in again."));

async function boot(): Promise<void> {
  try {
    startConsole(await api<ConsoleSessionInfo>("GET", "/console/session"));
  } catch (error) {
    showSignIn(error instanceof ApiError && error.status === 401 ? undefined : "The gateway could not be reached.");
  }
}

void boot();

function noticeText(payload: unknown): string {
  const { message, channelType } = (payload ?? {}) as { message?: unknown; channelType?: unknown };
  const text = typeof message === "string" ? message : "a channel needs attention";
  return typeof channelType === "string" ? `${channelType}: ${text}` : text;
}
