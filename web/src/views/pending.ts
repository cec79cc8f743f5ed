import { api } from "../api.js";
import { legacyBadge } from "./device-badge.js";
import { h } from "../dom.js";
import { formatAge, formatCode } from "../format.js";
import { announce } from "../state.js";
import type { PendingRequest } from "../../../src/protocols/types.js";
import { DecisionListView } from "./decision-list.js";

/** Senders waiting for the owner: live, with age, channel, sender and Approve / Deny. */
export class PendingView extends DecisionListView<PendingRequest> {
  private loadedAt = 0;
  private ticker: number | undefined;

  constructor(onCount: (count: number) => void) {
    super(
      {
        id: "pending",
        label: "Pending",
        title: "Pending requests",
        intro: "People who asked to talk to the agent. New requests appear here as they arrive.",
        noun: "pending requests",
        empty: [
          "No one is waiting for approval.",
          "When someone unknown messages the agent, their request shows up here without reloading.",
        ],
        refreshingEvents: new Set([
          "resync",
          "pairing.requested",
          "pairing.approved",
          "pairing.denied",
          "pairing.expired",
        ]),
      },
      onCount,
    );
  }

  override show(): void {
    super.show();
    window.clearInterval(this.ticker);
    this.ticker = window.setInterval(() => this.tickAges(), 1000);
  }

  hide(): void {
    window.clearInterval(this.ticker);
  }

  protected async fetchItems(): Promise<PendingRequest[]> {
    const { pending } = await api<{ pending: PendingRequest[] }>("GET", "/api/pairing/pending");
    const items = pending.filter((p) => p.kind === "request").sort((a, b) => a.createdAt - b.createdAt);
    this.loadedAt = Date.now();
    return items;
  }

  protected card(item: PendingRequest): HTMLElement {
    const code = formatCode(item.code);
    const sender = item.userName || item.userId || item.channelId;
    const who = `${sender} on ${item.channelType}`;
    const age = h("span", { class: "age", "data-age": String(item.ageSeconds) }, formatAge(item.ageSeconds));
    const { approve, deny, error } = this.decisionControls(
      item.code,
      `${code} from ${who}`,
      async (action) => {
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
      },
      true,
    );
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
