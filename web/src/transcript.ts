import { h } from "./dom.js";

/**
 * A conversation as a list: the visitor's messages and the agent's replies, which grow with each streamed delta and are
 * settled by the final answer. Every text goes in as a text node (dom.ts), whatever the agent or the visitor wrote.
 */
export class Transcript {
  readonly element = h("ol", { class: "transcript", "aria-live": "polite", "aria-label": "Conversation" });
  private readonly pending = new Map<string, HTMLElement>();

  /** Shows the visitor's message and an empty reply awaiting the request `id`. */
  asked(id: string, text: string): void {
    this.element.append(h("li", { class: "message mine" }, h("span", { class: "who" }, "You"), h("p", {}, text)));
    const reply = h("p", { "aria-busy": "true" });
    this.element.append(h("li", { class: "message agent" }, h("span", { class: "who" }, "Agent"), reply));
    this.pending.set(id, reply);
    this.element.lastElementChild?.scrollIntoView({ block: "end" });
  }

  delta(id: string, text: string): void {
    const reply = this.pending.get(id);
    if (reply) reply.textContent = `${reply.textContent ?? ""}${text}`;
  }

  /** The final answer (the whole reply, or why there is none) replaces what the deltas built. */
  settled(id: string, ok: boolean, text: string): void {
    const reply = this.pending.get(id);
    if (!reply) return;
    if (!ok || text !== "") reply.textContent = text;
    if (!ok) reply.classList.add("failed");
    reply.removeAttribute("aria-busy");
    this.pending.delete(id);
  }

  /** The socket ended: replies still awaited will never come. */
  abandonAll(): void {
    for (const id of [...this.pending.keys()]) this.settled(id, false, "No reply: the connection ended.");
  }
}
