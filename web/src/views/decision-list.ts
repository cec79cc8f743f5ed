import { describeError } from "../api.js";
import { h, replace } from "../dom.js";
import { emptyState, errorState, loadingState } from "../state.js";
import { debounce, viewFrame, type View } from "./view.js";

export type Decision = "approve" | "deny";

/** What tells one live approve/deny list from another: its words and the events that refresh it. */
export interface DecisionListText {
  readonly id: string;
  readonly label: string;
  readonly title: string;
  readonly intro: string;
  /** The noun after "Loading …" and "Could not load …". */
  readonly noun: string;
  readonly empty: readonly [title: string, detail: string];
  readonly refreshingEvents: ReadonlySet<string>;
}

/** The Approve / Deny buttons of one card and the line that shows why a decision failed. */
export interface DecisionControls {
  readonly approve: HTMLButtonElement;
  readonly deny: HTMLButtonElement;
  readonly error: HTMLElement;
}

/**
 * A live list of cards the owner approves or denies (pending senders, agents' actions): loading, error and empty
 * states, refresh on live events, the count for the navigation, and one decision at a time per card.
 */
export abstract class DecisionListView<T> implements View {
  readonly id: string;
  readonly label: string;
  readonly element: HTMLElement;
  protected readonly body: HTMLElement;
  protected readonly list: HTMLElement;
  protected items: T[] | null = null;
  protected readonly refreshSoon = debounce(() => void this.load(), 120);
  private readonly busy = new Set<string>();

  constructor(
    private readonly text: DecisionListText,
    private readonly onCount: (count: number) => void,
  ) {
    this.id = text.id;
    this.label = text.label;
    this.list = h("ul", { class: "cards", "aria-label": text.title });
    const refresh = h(
      "button",
      { type: "button", class: "button secondary", onclick: () => void this.load(true) },
      "Refresh",
    );
    const frame = viewFrame(text.id, text.title, text.intro, refresh);
    this.element = frame.element;
    this.body = frame.body;
  }

  /** The items to show, from the server. */
  protected abstract fetchItems(): Promise<T[]>;
  protected abstract card(item: T): HTMLElement;

  show(): void {
    if (this.items === null) void this.load(true);
  }

  onEvent(event: string): void {
    if (this.text.refreshingEvents.has(event)) this.refreshSoon();
  }

  async load(showSpinner = false): Promise<void> {
    if (showSpinner || this.items === null) {
      this.body.setAttribute("aria-busy", "true");
      replace(this.body, loadingState(`Loading ${this.text.noun}…`));
    }
    try {
      this.items = await this.fetchItems();
      this.render();
    } catch (error) {
      this.items = null;
      replace(
        this.body,
        errorState(`Could not load ${this.text.noun}: ${describeError(error)}`, () => void this.load(true)),
      );
    } finally {
      this.body.removeAttribute("aria-busy");
    }
  }

  protected render(): void {
    const items = this.items ?? [];
    this.onCount(items.length);
    if (items.length === 0) {
      replace(this.body, emptyState(...this.text.empty));
      return;
    }
    replace(this.list, ...items.map((item) => this.card(item)));
    replace(this.body, this.list);
  }

  /**
   * Buttons labelled "Approve <what>" / "Deny <what>" that run `decide` once at a time for `key`. A failed decision
   * is shown on the card and the list refreshes; `reenableOnError` gives the buttons back at once.
   */
  protected decisionControls(
    key: string,
    what: string,
    decide: (action: Decision) => Promise<void>,
    reenableOnError: boolean,
  ): DecisionControls {
    const error = h("p", { class: "inline-error", role: "alert" });
    const approve = h(
      "button",
      { type: "button", class: "button primary", "aria-label": `Approve ${what}` },
      "Approve",
    );
    const deny = h("button", { type: "button", class: "button danger", "aria-label": `Deny ${what}` }, "Deny");
    const act = async (action: Decision): Promise<void> => {
      if (this.busy.has(key)) return;
      this.busy.add(key);
      approve.disabled = deny.disabled = true;
      error.textContent = "";
      try {
        await decide(action);
      } catch (err) {
        error.textContent = describeError(err);
        if (reenableOnError) approve.disabled = deny.disabled = false;
        this.refreshSoon();
      } finally {
        this.busy.delete(key);
      }
    };
    approve.addEventListener("click", () => void act("approve"));
    deny.addEventListener("click", () => void act("deny"));
    return { approve, deny, error };
  }
}
