import { h } from "../dom.js";

/**
 * A webchat sender whose id is not derived from a key (no `dk1.` prefix) is a legacy name-only device: anyone who
 * learns its id can connect as it. The console marks it, so the owner knows what `gatehouse pairing require-proof` ends.
 */
export function legacyBadge(channelType: string, channelId: string): HTMLElement | null {
  if (channelType !== "webchat" || channelId === "" || channelId.startsWith("dk1.")) return null;
  return h(
    "span",
    { class: "badge legacy-device", title: "No device key: whoever knows this id can connect as this device" },
    "legacy: no device key",
  );
}
