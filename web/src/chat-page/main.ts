import { deviceKeysAvailable, loadDeviceKey, type DeviceKey } from "../device-key.js";
import { CLOSE_CODES, WebchatSocket, type WebchatEvent } from "../webchat-socket.js";
import { ChatPageView } from "./page-view.js";

/**
 * The public webchat page (/chat/): a visitor's browser becomes a key device (device-key.ts) as soon as the page
 * loads, connects, and shows either its pairing code or the chat. No owner token or console session is involved: the
 * gateway's admission rules decide. A dropped connection or an unavailable gateway is retried with backoff; a refusal
 * (denied, expired, revoked, policy, bad proof) waits for the visitor to ask again, so nobody's budget of pairing
 * requests is spent by a page left open.
 */
const FIRST_RETRY_MS = 1000;
const LAST_RETRY_MS = 30_000;

/** Closes that are the gateway's decision about this browser: retrying by itself would change nothing. */
const REFUSALS = new Set<number>([CLOSE_CODES.policy, CLOSE_CODES.unauthorized, CLOSE_CODES.forbidden]);

let key: DeviceKey | null = null;
let socket: WebchatSocket | null = null;
let retryMs = FIRST_RETRY_MS;
let retryTimer: number | undefined;
/** Whether a retry is scheduled (the gateway was unavailable), as opposed to waiting for the visitor. */
let retrying = false;
const view = new ChatPageView(document.getElementById("app")!, (text) => {
  if (socket) view.transcript.asked(socket.send(text), text);
});

function connect(): void {
  window.clearTimeout(retryTimer);
  retrying = false;
  if (!key || socket) return;
  view.setPhase("connecting", "Connecting…");
  const opened = new WebchatSocket(key, (event) => onEvent(opened, event));
  socket = opened;
}

function onEvent(from: WebchatSocket, event: WebchatEvent): void {
  if (from !== socket) return;
  switch (event.type) {
    case "waiting":
      retryMs = FIRST_RETRY_MS;
      view.showCode(event.code, event.expiresAt);
      break;
    case "approved":
      view.setPhase("connecting", "Approved. Opening the chat…");
      break;
    case "ready":
      retryMs = FIRST_RETRY_MS;
      view.setPhase("ready", "Connected. You can chat now.");
      break;
    case "denied":
      // The close that follows carries the gateway's words for it.
      break;
    case "delta":
      view.transcript.delta(event.id, event.text);
      break;
    case "reply":
      view.transcript.settled(event.id, event.ok, event.text);
      break;
    case "closed":
      socket = null;
      view.transcript.abandonAll();
      onClosed(event.code, event.reason);
      break;
  }
}

function onClosed(code: number, reason: string): void {
  const said = reason === "" ? "" : ` ${sentence(reason)}`;
  if (REFUSALS.has(code)) {
    // The gateway's own words say which refusal it was (denied, expired, revoked, too many requests).
    const message =
      code === CLOSE_CODES.unauthorized
        ? `The gateway did not accept this browser's key.${said}`
        : said.trim() || "The gateway did not let this browser in.";
    view.setPhase("stopped", message, { label: "Ask again", run: connect });
  } else if (code === CLOSE_CODES.normal) {
    view.setPhase("stopped", `Disconnected.${said}`, { label: "Connect again", run: connect });
  } else {
    const seconds = Math.round(retryMs / 1000);
    view.setPhase("offline", `The gateway is unavailable. Trying again in ${seconds} s…`, {
      label: "Try now",
      run: connect,
    });
    retrying = true;
    retryTimer = window.setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, LAST_RETRY_MS);
  }
}

/** "your pairing request expired" as "Your pairing request expired." */
function sentence(text: string): string {
  const trimmed = text.trim();
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

async function start(): Promise<void> {
  if (!deviceKeysAvailable()) {
    view.setPhase(
      "stopped",
      "This browser cannot keep a chat key here: the page needs HTTPS (or http on this computer).",
    );
    return;
  }
  try {
    key = await loadDeviceKey();
  } catch (error) {
    view.setPhase(
      "stopped",
      `This browser could not make its chat key: ${error instanceof Error ? error.message : error}`,
    );
    return;
  }
  view.showDevice(key.deviceId);
  connect();
}

// Back online: no need to wait for the next retry.
window.addEventListener("online", () => {
  if (retrying) connect();
});

void start();
