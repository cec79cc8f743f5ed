import { api, describeError } from "../api.js";
import { legacyBadge } from "./device-badge.js";
import { h, replace, uid } from "../dom.js";
import { formatTime } from "../format.js";
import { announce, emptyState, errorState, loadingState } from "../state.js";
import type { PairedChannel } from "../../../src/protocols/types.js";
import { debounce, viewFrame, type View } from "./view.js";

const REFRESHING_EVENTS = new Set(["resync", "pairing.approved", "pairing.revoked"]);

/** Everyone who may talk to the agent, with a two-step Revoke. */
export class PairedView implements View {
  readonly id = "paired";
  readonly label = "Paired";
  readonly element: HTMLElement;
  private readonly body: HTMLElement;
  private readonly filter: HTMLInputElement;
  private items: PairedChannel[] | null = null;
  private readonly refreshSoon = debounce(() => void this.load(), 150);

  constructor() {
    const filterId = uid("paired-filter");
    this.filter = h("input", { id: filterId, type: "search", placeholder: "name, id or channel", autocomplete: "off" });
    this.filter.addEventListener("input", () => this.render());
    const tools = h("div", { class: "field inline" }, h("label", { for: filterId }, "Filter"), this.filter);
    const frame = viewFrame(
      "paired",
      "Paired channels",
      "Senders who may talk to the agent. Revoking takes effect immediately.",
      tools,
    );
    this.element = frame.element;
    this.body = frame.body;
  }

  show(): void {
    void this.load(this.items === null);
  }

  onEvent(event: string): void {
    if (REFRESHING_EVENTS.has(event) && this.items !== null) this.refreshSoon();
  }

  async load(showSpinner = false): Promise<void> {
    if (showSpinner) {
      this.body.setAttribute("aria-busy", "true");
      replace(this.body, loadingState("Loading paired channels…"));
    }
    try {
      const { paired } = await api<{ paired: PairedChannel[] }>("GET", "/api/pairing/paired");
      this.items = paired.sort((a, b) => b.pairedAt - a.pairedAt);
      this.render();
    } catch (error) {
      this.items = null;
      replace(
        this.body,
        errorState(`Could not load paired channels: ${describeError(error)}`, () => void this.load(true)),
      );
    } finally {
      this.body.removeAttribute("aria-busy");
    }
  }

  private render(): void {
    if (this.items === null) return;
    if (this.items.length === 0) {
      replace(
        this.body,
        emptyState("Nobody is paired yet.", "Approve a pending request or create an invite to let someone in."),
      );
      return;
    }
    const needle = this.filter.value.trim().toLowerCase();
    const shown =
      needle === ""
        ? this.items
        : this.items.filter((p) => `${p.label} ${p.channelId} ${p.channelType}`.toLowerCase().includes(needle));
    if (shown.length === 0) {
      replace(this.body, emptyState("No paired channel matches the filter."));
      return;
    }
    replace(this.body, h("ul", { class: "cards", "aria-label": "Paired channels" }, ...shown.map((p) => this.card(p))));
  }

  private card(item: PairedChannel): HTMLElement {
    const name = item.label || item.channelId;
    const who = `${name} on ${item.channelType}`;
    const actions = h("div", { class: "card-actions" });
    const error = h("p", { class: "inline-error", role: "alert" });
    const revoke = h("button", { type: "button", class: "button danger", "aria-label": `Revoke ${who}` }, "Revoke");
    const confirm = h(
      "button",
      { type: "button", class: "button danger", "aria-label": `Confirm revoking ${who}` },
      "Confirm revoke",
    );
    const cancel = h("button", { type: "button", class: "button secondary" }, "Cancel");
    const question = h("span", { class: "confirm-text" }, "Revoke access?");
    const ask = (): void => {
      replace(actions, question, confirm, cancel);
      confirm.focus();
    };
    const back = (): void => {
      replace(actions, revoke);
      revoke.focus();
    };
    revoke.addEventListener("click", ask);
    cancel.addEventListener("click", back);
    confirm.addEventListener("click", async () => {
      confirm.disabled = cancel.disabled = true;
      error.textContent = "";
      try {
        const path = `/api/pairing/paired/${encodeURIComponent(item.channelType)}/${encodeURIComponent(item.channelId)}`;
        const { revoked } = await api<{ revoked: boolean }>("DELETE", path);
        this.items = (this.items ?? []).filter((p) => p !== item);
        this.render();
        announce(revoked ? `Revoked ${who}.` : `${who} was no longer paired.`);
        this.element.querySelector<HTMLElement>("h2")?.focus();
      } catch (err) {
        error.textContent = describeError(err);
        confirm.disabled = cancel.disabled = false;
      }
    });
    replace(actions, revoke);
    return h(
      "li",
      { class: "card", "data-channel-id": item.channelId },
      h(
        "div",
        { class: "card-main" },
        h(
          "p",
          { class: "card-title" },
          h("span", { class: "sender" }, name),
          h("span", { class: "badge" }, item.channelType),
          legacyBadge(item.channelType, item.channelId),
        ),
        h(
          "dl",
          { class: "facts" },
          h("div", {}, h("dt", {}, "Sender id"), h("dd", { class: "mono" }, item.channelId)),
          h("div", {}, h("dt", {}, "Paired"), h("dd", {}, formatTime(item.pairedAt))),
          item.approvedBy
            ? h("div", {}, h("dt", {}, "Approved by"), h("dd", { class: "mono" }, item.approvedBy))
            : null,
        ),
        error,
      ),
      actions,
    );
  }
}
