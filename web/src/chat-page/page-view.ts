import { runCountdown } from "../countdown.js";
import { h, replace } from "../dom.js";
import { formatCode } from "../format.js";
import { Transcript } from "../transcript.js";

/** What the status line says the page is doing; `stopped` waits for the visitor, `offline` retries by itself. */
export type PagePhase = "connecting" | "waiting" | "ready" | "stopped" | "offline";

/**
 * The public chat page's DOM: a status line, the pairing code while the owner has not approved this browser, the
 * conversation and its composer. It only shows; chat-page/main.ts decides. Text always goes in as text (dom.ts).
 */
export class ChatPageView {
  readonly transcript = new Transcript();
  private readonly status = h("div", { class: "chat-status", role: "status", "data-testid": "chat-status" });
  private readonly pairing = h("section", { class: "pairing-panel", "aria-label": "Pairing code", hidden: true });
  private readonly deviceLine = h("p", { class: "muted chat-device", "data-testid": "chat-device" });
  private readonly messageInput = h("textarea", {
    id: "chat-message",
    rows: "2",
    maxlength: "16000",
    disabled: true,
  });
  private readonly sendButton = h("button", { type: "submit", class: "button primary", disabled: true }, "Send");
  private stopCountdown: (() => void) | null = null;

  constructor(
    root: HTMLElement,
    private readonly onSend: (text: string) => void,
  ) {
    const composer = h(
      "form",
      { class: "composer", "aria-label": "Send a message" },
      h("div", { class: "field grow" }, h("label", { for: "chat-message" }, "Message"), this.messageInput),
      this.sendButton,
    );
    composer.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.messageInput.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        this.submit();
      }
    });
    replace(
      root,
      h("h1", {}, "Chat"),
      this.status,
      this.pairing,
      h("div", { class: "chat-box" }, this.transcript.element),
      composer,
      this.deviceLine,
    );
  }

  showDevice(deviceId: string): void {
    this.deviceLine.textContent = `This browser is device ${deviceId}`;
  }

  /** The status line; `action` adds a button (Try again, Ask again) under the message. */
  setPhase(phase: PagePhase, message: string, action?: { label: string; run: () => void }): void {
    const button = action ? h("button", { type: "button", class: "button secondary retry" }, action.label) : null;
    if (button && action) button.addEventListener("click", action.run);
    replace(this.status, h("p", {}, message), button);
    this.status.dataset.phase = phase;
    const ready = phase === "ready";
    this.messageInput.disabled = !ready;
    this.sendButton.disabled = !ready;
    if (phase !== "waiting") {
      this.pairing.hidden = true;
      this.stopCountdown?.();
    }
    if (ready) this.messageInput.focus();
  }

  /** The code the owner approves, in large type, and what the visitor should do with it. */
  showCode(code: string, expiresAt: number | null): void {
    this.setPhase("waiting", "Waiting for the owner to approve this browser…");
    const timer = h("p", { class: "countdown" });
    replace(
      this.pairing,
      h("p", {}, "To start chatting, ask the owner of this chat to approve this code:"),
      h("strong", { class: "invite-code", "data-testid": "pairing-code" }, formatCode(code)),
      h("p", {}, "Keep this page open: it waits, and the chat opens by itself as soon as they approve it."),
      expiresAt === null ? null : timer,
    );
    this.pairing.hidden = false;
    if (expiresAt !== null) this.stopCountdown = runCountdown(timer, expiresAt);
  }

  private submit(): void {
    const text = this.messageInput.value.trim();
    if (text === "" || this.messageInput.disabled) return;
    this.onSend(text);
    this.messageInput.value = "";
  }
}
