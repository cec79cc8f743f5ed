import { formatCountdown } from "./format.js";

/**
 * Keeps `timer` saying how long a pairing code has left, every second, until it expires or the returned stop is
 * called. The gateway closes the socket when the code expires; this is only what the visitor reads meanwhile.
 */
export function runCountdown(timer: HTMLElement, expiresAt: number): () => void {
  let interval: number | undefined;
  const tick = (): void => {
    const left = expiresAt - Date.now();
    timer.textContent = left > 0 ? `The code expires in ${formatCountdown(left)}.` : "The code has expired.";
    timer.classList.toggle("expired", left <= 0);
    if (left <= 0) window.clearInterval(interval);
  };
  tick();
  interval = window.setInterval(tick, 1000);
  return () => window.clearInterval(interval);
}
