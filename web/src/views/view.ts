import { h, type Child } from "../dom.js";

/** One section of the console, shown when its hash (#pending, #paired, …) is current. */
export interface View {
  readonly id: string;
  readonly label: string;
  readonly element: HTMLElement;
  /** Called each time the view becomes visible. */
  show(): void;
  hide?(): void;
  /** A live pairing event from the owner socket, or "resync" after (re)connecting. */
  onEvent?(event: string): void;
}

/** The common frame of a view: a focusable heading (focused on navigation), an intro, optional tools, and a body. */
export function viewFrame(
  id: string,
  title: string,
  intro: string,
  ...tools: Child[]
): { element: HTMLElement; body: HTMLElement } {
  const headingId = `${id}-title`;
  const body = h("div", { class: "view-body" });
  const element = h(
    "section",
    { id: `view-${id}`, class: "view", "aria-labelledby": headingId, hidden: true },
    h(
      "div",
      { class: "view-head" },
      h("div", {}, h("h2", { id: headingId, tabindex: "-1" }, title), h("p", { class: "muted" }, intro)),
      tools.length > 0 ? h("div", { class: "tools" }, ...tools) : null,
    ),
    body,
  );
  return { element, body };
}

/** Calls `fn` at most once per `ms`, trailing. */
export function debounce(fn: () => void, ms: number): () => void {
  let timer: number | undefined;
  return () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(fn, ms);
  };
}
