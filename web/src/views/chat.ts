import { socketUrl } from "../api.js";
import { deviceKeysAvailable, loadDeviceKey, signChallenge, type DeviceKey } from "../device-key.js";
import { h, replace, uid } from "../dom.js";
import { formatCode, formatCountdown } from "../format.js";
import { viewFrame, type View } from "./view.js";

interface Frame {
  type?: unknown;
  id?: unknown;
  ok?: unknown;
  event?: unknown;
  payload?: unknown;
  error?: { code?: unknown; message?: unknown };
  code?: unknown;
  expiresAt?: unknown;
  nonce?: unknown;
  audience?: unknown;
}

type Phase = "idle" | "connecting" | "waiting" | "ready" | "closed";

/**
 * Talks to the agent through the webchat channel, without the owner's credentials: the socket is a token-less webchat
 * sender, so it goes through the same admission rules as anyone (a pairing code until someone approves it). The
 * browser is a key device (device-key.ts): it proves its key on every connect, so once approved it stays paired
 * across reloads until the site's storage is cleared or the owner revokes it.
 */
export class ChatView implements View {
  readonly id = "chat";
  readonly label = "Chat";
  readonly element: HTMLElement;
  private key: DeviceKey | null = null;
  private readonly deviceLine = h("p", { class: "muted chat-device", "data-testid": "chat-device" });
  private socket: WebSocket | null = null;
  private phase: Phase = "idle";
  private nextId = 1;
  private readonly replies = new Map<string, HTMLElement>();
  private readonly status = h("div", { class: "chat-status", role: "status" });
  private readonly transcript = h("ol", { class: "transcript", "aria-live": "polite", "aria-label": "Conversation" });
  private readonly nameInput: HTMLInputElement;
  private readonly connectButton: HTMLButtonElement;
  private readonly messageInput: HTMLTextAreaElement;
  private readonly sendButton: HTMLButtonElement;
  private countdown: number | undefined;
  /** The gateway's last error frame: it explains the close that follows. */
  private lastError: string | null = null;

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
      h("div", { class: "chat-box" }, this.transcript),
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
    if (phase !== "waiting") window.clearInterval(this.countdown);
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
    const key = this.key;
    this.deviceLine.textContent = `This browser is device ${key.deviceId}`;
    const socket = new WebSocket(socketUrl());
    this.socket = socket;
    this.setPhase("connecting", "Connecting…");
    socket.addEventListener("open", () => {
      const name = this.nameInput.value.trim();
      const params: Record<string, string> = { deviceId: key.deviceId, publicKey: key.publicKey };
      if (name !== "") params.name = name;
      socket.send(JSON.stringify({ type: "connect", params }));
    });
    socket.addEventListener("message", (message) => {
      let frame: Frame;
      try {
        frame = JSON.parse(String(message.data)) as Frame;
      } catch {
        return;
      }
      this.onFrame(frame);
    });
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      const reason = this.lastError ?? event.reason;
      this.lastError = null;
      this.setPhase("closed", reason ? `Disconnected: ${reason}.` : "Disconnected.");
    });
  }

  private disconnect(): void {
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000, "bye");
    this.setPhase("closed", "Disconnected.");
  }

  /** Signs the gateway's challenge, only if it names the gateway this page talks to. */
  private async answer(frame: Frame): Promise<void> {
    const socket = this.socket;
    const { nonce, audience, expiresAt } = frame;
    if (
      !socket ||
      !this.key ||
      typeof nonce !== "string" ||
      typeof audience !== "string" ||
      typeof expiresAt !== "number"
    )
      return;
    if (audience !== new URL(socketUrl()).host.toLowerCase()) {
      this.lastError = "the gateway asked to sign for another address";
      socket.close(1000, "wrong audience");
      return;
    }
    const signature = await signChallenge(this.key, { nonce, audience, expiresAt });
    if (this.socket === socket) socket.send(JSON.stringify({ type: "proof", params: { signature } }));
  }

  private onFrame(frame: Frame): void {
    if (frame.type === "challenge") {
      void this.answer(frame);
    } else if (frame.type === "pairing" && typeof frame.code === "string") {
      this.showWaiting(frame.code, typeof frame.expiresAt === "number" ? frame.expiresAt : null);
    } else if (frame.type === "hello") {
      this.setPhase("ready", "Connected. You can chat now.");
      this.messageInput.focus();
    } else if (frame.type === "event" && frame.event === "pairing.approved") {
      this.setPhase("connecting", "Approved. Opening the conversation…");
    } else if (frame.type === "event" && frame.event === "pairing.denied") {
      this.setPhase("closed", "The owner declined this request.");
    } else if (frame.type === "event" && frame.event === "chat.delta") {
      const payload = frame.payload as { id?: unknown; text?: unknown } | undefined;
      const reply = this.replies.get(String(payload?.id));
      if (reply && typeof payload?.text === "string") reply.textContent = `${reply.textContent ?? ""}${payload.text}`;
    } else if (frame.type === "res") {
      const reply = this.replies.get(String(frame.id));
      if (!reply) return;
      if (frame.ok === true) {
        const text = (frame.payload as { text?: unknown } | undefined)?.text;
        if (typeof text === "string") reply.textContent = text;
      } else {
        const message =
          typeof frame.error?.message === "string" ? frame.error.message : "The message could not be delivered.";
        reply.textContent = message;
        reply.classList.add("failed");
      }
      reply.removeAttribute("aria-busy");
      this.replies.delete(String(frame.id));
    } else if (frame.type === "error" && typeof frame.error?.message === "string") {
      this.lastError = frame.error.message;
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
    if (expiresAt === null) return;
    const tick = (): void => {
      const left = expiresAt - Date.now();
      timer.textContent =
        left > 0 ? `The code expires in ${formatCountdown(left)}.` : "The code has expired; reconnect for a new one.";
      if (left <= 0) window.clearInterval(this.countdown);
    };
    tick();
    this.countdown = window.setInterval(tick, 1000);
  }

  private send(): void {
    const text = this.messageInput.value.trim();
    if (text === "" || this.phase !== "ready" || !this.socket) return;
    const id = `c${this.nextId++}`;
    this.transcript.append(h("li", { class: "message mine" }, h("span", { class: "who" }, "You"), h("p", {}, text)));
    const reply = h("p", { "aria-busy": "true" });
    this.transcript.append(h("li", { class: "message agent" }, h("span", { class: "who" }, "Agent"), reply));
    this.replies.set(id, reply);
    this.socket.send(JSON.stringify({ type: "req", id, method: "chat.send", params: { text } }));
    this.messageInput.value = "";
    this.transcript.lastElementChild?.scrollIntoView({ block: "end" });
  }
}
