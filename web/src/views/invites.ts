import { api, describeError } from "../api.js";
import { h, replace, uid } from "../dom.js";
import { formatAgo, formatCode, formatCountdown, formatTime } from "../format.js";
import { announce, emptyState, errorState, loadingState } from "../state.js";
import type { PendingRequest } from "../../../src/protocols/types.js";
import { viewFrame, type View } from "./view.js";

/** Creates invite codes (shown once, with copy and a countdown) and lists the invites still open (masked). */
export class InvitesView implements View {
  readonly id = "invites";
  readonly label = "Invites";
  readonly element: HTMLElement;
  private readonly result = h("div", { class: "invite-result", "aria-live": "polite" });
  private readonly open = h("div", { class: "open-invites" });
  private countdown: number | undefined;

  /** `channelTypes`: what this gateway runs (from the console session), offered as suggestions. */
  constructor(channelTypes: readonly string[]) {
    const inputId = uid("invite-channel");
    const listId = uid("channel-types");
    const channel = h("input", {
      id: inputId,
      name: "channelType",
      required: true,
      list: listId,
      value: channelTypes[0] ?? "",
      autocomplete: "off",
    });
    const submit = h("button", { type: "submit", class: "button primary" }, "Create invite");
    const formError = h("p", { class: "inline-error", role: "alert" });
    const form = h(
      "form",
      { class: "invite-form", "aria-label": "Create an invite" },
      h(
        "div",
        { class: "field" },
        h("label", { for: inputId }, "Channel type"),
        channel,
        h("datalist", { id: listId }, ...channelTypes.map((t) => h("option", { value: t }))),
      ),
      submit,
      formError,
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const channelType = channel.value.trim();
      formError.textContent = "";
      if (channelType === "") {
        formError.textContent = "Enter a channel type, for example telegram.";
        channel.focus();
        return;
      }
      submit.disabled = true;
      try {
        const invite = await api<{ code: string; expiresAt: number }>("POST", "/api/pairing/invites", { channelType });
        this.showInvite(channelType, invite.code, invite.expiresAt);
        void this.loadOpen();
      } catch (error) {
        formError.textContent = `Could not create the invite: ${describeError(error)}`;
      } finally {
        submit.disabled = false;
      }
    });
    const frame = viewFrame(
      "invites",
      "Invites",
      "An invite code lets one person pair themselves: they send /pair CODE to the bot. The code is shown only once.",
    );
    this.element = frame.element;
    frame.body.append(form, this.result, h("h3", {}, "Open invites"), this.open);
  }

  show(): void {
    void this.loadOpen();
  }

  hide(): void {
    // The code was shown once; leaving the view forgets it.
    this.clearInvite();
  }

  private showInvite(channelType: string, code: string, expiresAt: number): void {
    const formatted = formatCode(code);
    const codeBox = h("output", { class: "invite-code", "aria-label": "Invite code" }, formatted);
    const timer = h("span", { class: "countdown" });
    const copyStatus = h("span", { class: "muted", role: "status" });
    const copy = h("button", { type: "button", class: "button primary" }, "Copy code");
    copy.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(formatted);
        copyStatus.textContent = "Copied.";
      } catch {
        const range = document.createRange();
        range.selectNodeContents(codeBox);
        const selection = window.getSelection();
        selection?.removeAllRanges();
        selection?.addRange(range);
        copyStatus.textContent = "Selected: press Ctrl+C (⌘C) to copy.";
      }
    });
    const done = h("button", { type: "button", class: "button secondary" }, "Done");
    done.addEventListener("click", () => this.clearInvite());
    const tick = (): void => {
      const left = expiresAt - Date.now();
      if (left <= 0) {
        window.clearInterval(this.countdown);
        timer.textContent = "Expired";
        timer.classList.add("expired");
        copy.disabled = true;
        return;
      }
      timer.textContent = `Expires in ${formatCountdown(left)}`;
    };
    window.clearInterval(this.countdown);
    tick();
    this.countdown = window.setInterval(tick, 1000);
    replace(
      this.result,
      h(
        "div",
        { class: "card invite-card" },
        h("p", { class: "card-title" }, `Invite for ${channelType}`),
        codeBox,
        h(
          "p",
          { class: "muted" },
          timer,
          ` · valid until ${formatTime(expiresAt)}. This code will not be shown again.`,
        ),
        h("div", { class: "card-actions" }, copy, done, copyStatus),
      ),
    );
    announce(`Invite created for ${channelType}.`);
    copy.focus();
  }

  private clearInvite(): void {
    window.clearInterval(this.countdown);
    this.result.replaceChildren();
  }

  private async loadOpen(): Promise<void> {
    if (this.open.childElementCount === 0) replace(this.open, loadingState("Loading open invites…"));
    try {
      const { pending } = await api<{ pending: PendingRequest[] }>("GET", "/api/pairing/pending");
      const invites = pending.filter((p) => p.kind === "invite");
      if (invites.length === 0) {
        replace(this.open, emptyState("No open invites."));
        return;
      }
      replace(
        this.open,
        h(
          "ul",
          { class: "plain-list", "aria-label": "Open invites" },
          ...invites.map((i) =>
            h(
              "li",
              {},
              h("span", { class: "badge" }, i.channelType),
              " ",
              h("span", { class: "mono" }, i.code),
              ` · created ${formatAgo(i.ageSeconds)}`,
            ),
          ),
        ),
      );
    } catch (error) {
      replace(
        this.open,
        errorState(`Could not load open invites: ${describeError(error)}`, () => void this.loadOpen()),
      );
    }
  }
}
