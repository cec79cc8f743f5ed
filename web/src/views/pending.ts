import { api, describeError } from "../api.js";
import { legacyBadge } from "./device-badge.js";
import { h, replace } from "../dom.js";
import { formatAge, formatCode } from "../format.js";
import { announce, emptyState, errorState, loadingState } from "../state.js";
import type { PendingRequest } from "../../../src/protocols/types.js";
import { debounce, viewFrame, type View } from "./view.js";

const REFRESHING_EVENTS = new Set([
  "resync",
  "pairing.requested",
  "pairing.approved",
  "pairing.denied",
  "pairing.expired",
]);

/** Senders waiting for the owner: live, with age, channel, sender and Approve / Deny. */
export class PendingView implements View {
  readonly id = "pending";
  readonly label = "Pending";
  readonly element: HTMLElement;
  private readonly body: HTMLElement;
  private readonly list = h("ul", { class: "cards", "aria-label": "Pending requests" });
  private items: PendingRequest[] | null = null;
  private loadedAt = 0;
  private ticker: number | undefined;
  private readonly busy = new Set<string>();
  private readonly refreshSoon = debounce(() => void this.load(), 120);

  constructor(private readonly onCount: (count: number) => void) {
    const refresh = h(
      "button",
      { type: "button", class: "button secondary", onclick: () => void this.load(true) },
      "Refresh",
    );
    const frame = viewFrame(
      "pending",
      "Pending requests",
      "People who asked to talk to the agent. New requests appear here as they arrive.",
      refresh,
    );
    this.element = frame.element;
    this.body = frame.body;
  }

  show(): void {
    if (this.items === null) void this.load(true);
    window.clearInterval(this.ticker);
    this.ticker = window.setInterval(() => this.tickAges(), 1000);
  }

  hide(): void {
    window.clearInterval(this.ticker);
  }

  onEvent(event: string): void {
    if (REFRESHING_EVENTS.has(event)) this.refreshSoon();
  }

  async load(showSpinner = false): Promise<void> {
    if (showSpinner || this.items === null) {
      this.body.setAttribute("aria-busy", "true");
      replace(this.body, loadingState("Loading pending requests…"));
    }
    try {
      const { pending } = await api<{ pending: PendingRequest[] }>("GET", "/api/pairing/pending");
      this.items = pending.filter((p) => p.kind === "request").sort((a, b) => a.createdAt - b.createdAt);
      this.loadedAt = Date.now();
      this.render();
    } catch (error) {
      this.items = null;
      replace(
        this.body,
        errorState(`Could not load pending requests: ${describeError(error)}`, () => void this.load(true)),
      );
    } finally {
      this.body.removeAttribute("aria-busy");
    }
  }

  private render(): void {
    const items = this.items ?? [];
    this.onCount(items.length);
    if (items.length === 0) {
      replace(
        this.body,
        emptyState(
          "No one is waiting for approval.",
          "When someone unknown messages the agent, their request shows up here without reloading.",
        ),
      );
      return;
    }
    replace(this.list, ...items.map((item) => this.card(item)));
    replace(this.body, this.list);
  }

  private card(item: PendingRequest): HTMLElement {
    const code = formatCode(item.code);
    const sender = item.userName || item.userId || item.channelId;
    const who = `${sender} on ${item.channelType}`;
    const error = h("p", { class: "inline-error", role: "alert" });
    const age = h("span", { class: "age", "data-age": String(item.ageSeconds) }, formatAge(item.ageSeconds));
    const approve = h(
      "button",
      { type: "button", class: "button primary", "aria-label": `Approve ${code} from ${who}` },
      "Approve",
    );
    const deny = h(
      "button",
      { type: "button", class: "button danger", "aria-label": `Deny ${code} from ${who}` },
      "Deny",
    );
    const act = async (action: "approve" | "deny"): Promise<void> => {
      if (this.busy.has(item.code)) return;
      this.busy.add(item.code);
      approve.disabled = deny.disabled = true;
      error.textContent = "";
      try {
        const result = await api<{ approved?: boolean; denied?: boolean }>("POST", `/api/pairing/${action}`, {
          channelType: item.channelType,
          code: item.code,
        });
        const done = action === "approve" ? result.approved : result.denied;
        if (!done) throw new Error("This request is no longer pending (already decided or expired).");
        this.items = (this.items ?? []).filter((p) => p.code !== item.code || p.channelType !== item.channelType);
        this.render();
        announce(action === "approve" ? `Approved ${who}.` : `Denied ${who}.`);
        const next = this.list.querySelector<HTMLButtonElement>("button");
        (next ?? this.element.querySelector<HTMLElement>("h2"))?.focus();
      } catch (err) {
        error.textContent = describeError(err);
        approve.disabled = deny.disabled = false;
        this.refreshSoon();
      } finally {
        this.busy.delete(item.code);
      }
    };
    approve.addEventListener("click", () => void act("approve"));
    deny.addEventListener("click", () => void act("deny"));
    return h(
      "li",
      { class: "card pending-card", "data-code": code },
      h(
        "div",
        { class: "card-main" },
        h(
          "p",
          { class: "card-title" },
          h("span", { class: "sender" }, sender),
          h("span", { class: "badge" }, item.channelType),
          legacyBadge(item.channelType, item.channelId),
        ),
        h(
          "dl",
          { class: "facts" },
          h("div", {}, h("dt", {}, "Code"), h("dd", { class: "code" }, code)),
          h("div", {}, h("dt", {}, "Sender id"), h("dd", { class: "mono" }, item.channelId)),
          h("div", {}, h("dt", {}, "Waiting"), h("dd", {}, age)),
        ),
        error,
      ),
      h("div", { class: "card-actions" }, approve, deny),
    );
  }

  private tickAges(): void {
    const elapsed = (Date.now() - this.loadedAt) / 1000;
    for (const age of this.list.querySelectorAll<HTMLElement>(".age")) {
      age.textContent = formatAge(Number(age.dataset.age) + elapsed);
    }
  }
}
