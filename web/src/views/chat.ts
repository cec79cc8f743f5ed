import { runCountdown } from "../countdown.js";
import { deviceKeysAvailable, loadDeviceKey, type DeviceKey } from "../device-key.js";
import { h, replace, uid } from "../dom.js";
import { formatCode } from "../format.js";
import { Transcript } from "../transcript.js";
import { WebchatSocket, type WebchatEvent } from "../webchat-socket.js";
import { viewFrame, type View } from "./view.js";

type Phase = "idle" | "connecting" | "waiting" | "ready" | "closed";

/**
 * Talks to the agent through the webchat channel, without the owner's credentials: the socket is a token-less webchat
 * sender, so it goes through the same admission rules as anyone (a pairing code until someone approves it). The
 * browser is a key device (device-key.ts, webchat-socket.ts): it proves its key on every connect, so once approved it
 * stays paired across reloads until the site's storage is cleared or the owner revokes it.
 */
export class ChatView implements View {
  readonly id = "chat";
  readonly label = "Chat";
  readonly element: HTMLElement;
  private key: DeviceKey | null = null;
  private readonly deviceLine = h("p", { class: "muted chat-device", "data-testid": "chat-device" });
  private socket: WebchatSocket | null = null;
  private phase: Phase = "idle";
  private readonly status = h("div", { class: "chat-status", role: "status" });
  private readonly transcript = new Transcript();
  private readonly nameInput: HTMLInputElement;
  private readonly connectButton: HTMLButtonElement;
  private readonly messageInput: HTMLTextAreaElement;
  private readonly sendButton: HTMLButtonElement;
  private stopCountdown: (() => void) | null = null;

  constructor() {
    const nameId = uid("chat-name");
    const messageId = uid("chat-message");
    this.nameInput = h("input", { id: nameId, autocomplete: "nickname", maxlength: "100", placeholder: "optional" });
    this.connectButton = h("button", { type: "button", class: "button primary" }, "Connect");
    this.connectButton.addEventListener("click", () => (this.socket ? this.disconnect() : void this.connect()));
    this.messageInput = h("textarea", { id: messageId, rows: "2", maxlength: "16000", disabled: true });
    this.sendButton = h("button", { type: "submit", class: "button primary", disabled: true }, "Send");
    const composer = h(
      "form",
      { class: "composer", "aria-label": "Send a message" },
      h("div", { class: "field grow" }, h("label", { for: messageId }, "Message"), this.messageInput),
      this.sendButton,
    );
    composer.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    this.messageInput.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        this.send();
      }
    });
    const frame = viewFrame(
      "chat",
      "Chat",
      "Talk to the agent through the webchat channel, under the same admission rules as any visitor.",
    );
    this.element = frame.element;
    frame.body.append(
      h(
        "div",
        { class: "chat-connect" },
        h("div", { class: "field" }, h("label", { for: nameId }, "Your name"), this.nameInput),
        this.connectButton,
      ),
      this.deviceLine,
      this.status,
      h("div", { class: "chat-box" }, this.transcript.element),
      composer,
    );
    this.setPhase("idle", "Not connected. Connect to start a conversation as a webchat visitor.");
  }

  show(): void {}

  private setPhase(phase: Phase, message: string | HTMLElement): void {
    this.phase = phase;
    replace(this.status, message);
    this.status.dataset.phase = phase;
    const ready = phase === "ready";
    this.messageInput.disabled = !ready;
    this.sendButton.disabled = !ready;
    this.connectButton.textContent = this.socket ? "Disconnect" : phase === "closed" ? "Reconnect" : "Connect";
    this.nameInput.disabled = this.socket !== null;
    if (phase !== "waiting") this.stopCountdown?.();
  }

  private async connect(): Promise<void> {
    if (!deviceKeysAvailable()) {
      this.setPhase(
        "closed",
        "This browser cannot keep a device key here (WebCrypto needs HTTPS, or http on this computer).",
      );
      return;
    }
    this.setPhase("connecting", "Connecting…");
    try {
      this.key ??= await loadDeviceKey();
    } catch (error) {
      this.setPhase("closed", `No device key: ${error instanceof Error ? error.message : String(error)}.`);
      return;
    }
    this.deviceLine.textContent = `This browser is device ${this.key.deviceId}`;
    const socket = new WebchatSocket(
      this.key,
      (event) => this.onSocketEvent(socket, event),
      this.nameInput.value.trim(),
    );
    this.socket = socket;
    this.setPhase("connecting", "Connecting…");
  }

  private disconnect(): void {
    this.socket?.close();
    this.socket = null;
    this.transcript.abandonAll();
    this.setPhase("closed", "Disconnected.");
  }

  private onSocketEvent(socket: WebchatSocket, event: WebchatEvent): void {
    if (this.socket !== socket) return;
    switch (event.type) {
      case "waiting":
        this.showWaiting(event.code, event.expiresAt);
        break;
      case "approved":
        this.setPhase("connecting", "Approved. Opening the conversation…");
        break;
      case "ready":
        this.setPhase("ready", "Connected. You can chat now.");
        this.messageInput.focus();
        break;
      case "denied":
        this.setPhase("closed", "The owner declined this request.");
        break;
      case "delta":
        this.transcript.delta(event.id, event.text);
        break;
      case "reply":
        this.transcript.settled(event.id, event.ok, event.text);
        break;
      case "closed":
        this.socket = null;
        this.transcript.abandonAll();
        this.setPhase("closed", event.reason ? `Disconnected: ${event.reason}.` : "Disconnected.");
        break;
    }
  }

  private showWaiting(code: string, expiresAt: number | null): void {
    const timer = h("span", { class: "countdown" });
    this.setPhase(
      "waiting",
      h(
        "div",
        {},
        h(
          "p",
          {},
          "Waiting for the owner to approve this chat. Your pairing code is ",
          h("strong", { class: "code", "data-testid": "chat-code" }, formatCode(code)),
          ".",
        ),
        expiresAt === null ? null : h("p", { class: "muted" }, timer),
      ),
    );
    if (expiresAt !== null) this.stopCountdown = runCountdown(timer, expiresAt);
  }

  private send(): void {
    const text = this.messageInput.value.trim();
    if (text === "" || this.phase !== "ready" || !this.socket) return;
    this.transcript.asked(this.socket.send(text), text);
    this.messageInput.value = "";
  }
}
