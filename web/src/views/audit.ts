import { api, ApiError, describeError } from "../api.js";
import { h, replace, uid } from "../dom.js";
import { formatTime } from "../format.js";
import { emptyState, errorState, loadingState } from "../state.js";
import type { AuditEvent } from "../../../src/stores/types.js";
import { debounce, viewFrame, type View } from "./view.js";

const EVENT_TYPES = [
  "requested",
  "invite-created",
  "approved",
  "owner-claimed",
  "denied",
  "revoked",
  "expired",
  "redeem-failed",
  "locked-out",
  "token-revoked",
  "console-session-ended",
  "channel-notice",
];
const PAGE_SIZES = [25, 50, 100];
/** With a filter on, at most this many API pages are read to fill one console page; "Next" carries on from there. */
const MAX_FETCHES_PER_PAGE = 20;
const FILTERED_FETCH_SIZE = 500;

interface Filters {
  type: string;
  channelType: string;
  pageSize: number;
}

/** The store's audit log, oldest first, with type / channel filters and cursor paging. */
export class AuditView implements View {
  readonly id = "audit";
  readonly label = "Audit log";
  readonly element: HTMLElement;
  private readonly results = h("div", { class: "audit-results" });
  private readonly pager = h("nav", { class: "pager", "aria-label": "Audit log pages" });
  private readonly typeSelect: HTMLSelectElement;
  private readonly channelInput: HTMLInputElement;
  private readonly sizeSelect: HTMLSelectElement;
  /** Cursor each visited page started after ("" = the beginning). */
  private starts: string[] = [""];
  private next: string | null = null;
  private loaded = false;
  private readonly refreshSoon = debounce(() => void this.load(false), 300);

  constructor() {
    const typeId = uid("audit-type");
    const channelId = uid("audit-channel");
    const sizeId = uid("audit-size");
    this.typeSelect = h(
      "select",
      { id: typeId },
      h("option", { value: "" }, "All events"),
      ...EVENT_TYPES.map((t) => h("option", { value: t }, t)),
    );
    this.channelInput = h("input", {
      id: channelId,
      type: "search",
      placeholder: "e.g. telegram",
      autocomplete: "off",
    });
    this.sizeSelect = h(
      "select",
      { id: sizeId },
      ...PAGE_SIZES.map((n) => h("option", { value: String(n), selected: n === 25 }, String(n))),
    );
    const apply = h("button", { type: "submit", class: "button secondary" }, "Apply");
    const form = h(
      "form",
      { class: "filters", "aria-label": "Audit log filters" },
      h("div", { class: "field" }, h("label", { for: typeId }, "Event type"), this.typeSelect),
      h("div", { class: "field" }, h("label", { for: channelId }, "Channel type"), this.channelInput),
      h("div", { class: "field" }, h("label", { for: sizeId }, "Per page"), this.sizeSelect),
      apply,
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.restart();
    });
    this.typeSelect.addEventListener("change", () => this.restart());
    this.sizeSelect.addEventListener("change", () => this.restart());
    const frame = viewFrame(
      "audit",
      "Audit log",
      "Every pairing decision, oldest first. Codes and tokens are never recorded.",
    );
    this.element = frame.element;
    frame.body.append(form, this.results, this.pager);
  }

  show(): void {
    if (!this.loaded) void this.load(true);
  }

  onEvent(event: string): void {
    // New events land on the last page; refresh it when that is the page on screen.
    if (event.startsWith("pairing.") && this.loaded && this.next === null) this.refreshSoon();
  }

  private restart(): void {
    this.starts = [""];
    void this.load(true);
  }

  private filters(): Filters {
    return {
      type: this.typeSelect.value,
      channelType: this.channelInput.value.trim().toLowerCase(),
      pageSize: Number(this.sizeSelect.value),
    };
  }

  private async load(showSpinner: boolean): Promise<void> {
    const filters = this.filters();
    const start = this.starts[this.starts.length - 1] ?? "";
    if (showSpinner) {
      this.results.setAttribute("aria-busy", "true");
      replace(this.results, loadingState("Loading the audit log…"));
    }
    try {
      const { events, next } = await fetchPage(start, filters);
      this.loaded = true;
      this.next = next;
      this.render(events, filters);
    } catch (error) {
      this.loaded = false;
      // A store without an audit log will not have one on retry: say so plainly instead of offering a retry.
      const unsupported = error instanceof ApiError && error.code === "not_supported_by_store";
      replace(
        this.results,
        unsupported
          ? emptyState("The audit log is not supported by this store.", error.message)
          : errorState(`Could not load the audit log: ${describeError(error)}`, () => void this.load(true)),
      );
      this.pager.replaceChildren();
    } finally {
      this.results.removeAttribute("aria-busy");
    }
  }

  private render(events: AuditEvent[], filters: Filters): void {
    const filtered = filters.type !== "" || filters.channelType !== "";
    if (events.length === 0) {
      replace(
        this.results,
        emptyState(
          filtered ? "No events match these filters." : "The audit log is empty.",
          filtered ? "Try another event type or channel." : "Decisions appear here as they happen.",
        ),
      );
    } else {
      const head = h(
        "tr",
        {},
        ...["Time", "Event", "Channel", "Sender", "Actor", "Details"].map((t) => h("th", { scope: "col" }, t)),
      );
      const rows = events.map((e) =>
        h(
          "tr",
          { "data-type": e.type },
          h("td", { "data-label": "Time" }, formatTime(e.at)),
          h("td", { "data-label": "Event" }, h("span", { class: `badge event-${e.type}` }, e.type)),
          h("td", { "data-label": "Channel" }, e.channelType),
          h("td", { "data-label": "Sender", class: "mono" }, e.channelId || "—"),
          h("td", { "data-label": "Actor", class: "mono" }, e.actor),
          h("td", { "data-label": "Details", class: "detail" }, describeDetail(e)),
        ),
      );
      replace(
        this.results,
        h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { class: "audit-table" },
            h("caption", { class: "sr-only" }, "Audit events"),
            h("thead", {}, head),
            h("tbody", {}, ...rows),
          ),
        ),
      );
    }
    const page = this.starts.length;
    const previous = h("button", { type: "button", class: "button secondary", disabled: page === 1 }, "Previous page");
    const nextButton = h(
      "button",
      { type: "button", class: "button secondary", disabled: this.next === null },
      "Next page",
    );
    previous.addEventListener("click", () => {
      this.starts.pop();
      void this.load(true);
    });
    nextButton.addEventListener("click", () => {
      if (this.next === null) return;
      this.starts.push(this.next);
      void this.load(true);
    });
    replace(
      this.pager,
      previous,
      h("span", { class: "page-number", "aria-live": "polite" }, `Page ${page}`),
      nextButton,
    );
  }
}

function matches(event: AuditEvent, filters: Filters): boolean {
  if (filters.type !== "" && event.type !== filters.type) return false;
  if (filters.channelType !== "" && event.channelType.toLowerCase() !== filters.channelType) return false;
  return true;
}

/**
 * One console page: API pages are read from `start` until `pageSize` events match the filters or the log ends.
 * `next` is the cursor to continue from, or null at the end of the log.
 */
async function fetchPage(start: string, filters: Filters): Promise<{ events: AuditEvent[]; next: string | null }> {
  const filtered = filters.type !== "" || filters.channelType !== "";
  const limit = filtered ? FILTERED_FETCH_SIZE : filters.pageSize;
  const collected: AuditEvent[] = [];
  let cursor = start;
  for (let fetches = 0; fetches < MAX_FETCHES_PER_PAGE; fetches += 1) {
    const query = new URLSearchParams({ limit: String(limit) });
    if (cursor !== "") query.set("after", cursor);
    const page = await api<{ events: AuditEvent[]; next: string | null }>("GET", `/api/audit?${query.toString()}`);
    for (let i = 0; i < page.events.length; i += 1) {
      const event = page.events[i]!;
      if (!matches(event, filters)) continue;
      collected.push(event);
      if (collected.length === filters.pageSize) {
        const moreInThisPage = i < page.events.length - 1;
        return { events: collected, next: moreInThisPage || page.next !== null ? event.id : null };
      }
    }
    if (page.next === null) return { events: collected, next: null };
    cursor = page.next;
  }
  return { events: collected, next: cursor };
}

function describeDetail(event: AuditEvent): string {
  const parts: string[] = [];
  if (event.kind) parts.push(event.kind);
  for (const [key, value] of Object.entries(event.detail ?? {})) {
    if (value === "" || value === null || value === undefined) continue;
    parts.push(`${key}: ${typeof value === "string" ? value : JSON.stringify(value)}`);
  }
  return parts.join(" · ") || "—";
}
