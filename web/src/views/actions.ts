import { api, describeError } from "../api.js";
import { h, replace } from "../dom.js";
import { formatAge } from "../format.js";
import { announce, emptyState, errorState, loadingState } from "../state.js";
import type { ApprovalView } from "../../../src/gateway/approvals/actions.js";
import { debounce, viewFrame, type View } from "./view.js";

const REFRESHING_EVENTS = new Set(["resync", "approval.requested", "approval.decided"]);
const MAX_ARGUMENTS = 2_000;

/** Agents' actions waiting for the owner: tool, arguments, risk, agent and session, with Approve / Deny. Live. */
export class ActionsView implements View {
  readonly id = "actions";
  readonly label = "Actions";
  readonly element: HTMLElement;
  private readonly body: HTMLElement;
  private readonly list = h("ul", { class: "cards", "aria-label": "Actions waiting for approval" });
  private items: ApprovalView[] | null = null;
  private readonly busy = new Set<string>();
  private readonly refreshSoon = debounce(() => void this.load(), 120);

  constructor(private readonly onCount: (count: number) => void) {
    const refresh = h(
      "button",
      { type: "button", class: "button secondary", onclick: () => void this.load(true) },
      "Refresh",
    );
    const frame = viewFrame(
      "actions",
      "Actions waiting for approval",
      "Tools your agents want to run. The first decision anywhere (here, a chat card, the CLI) wins.",
      refresh,
    );
    this.element = frame.element;
    this.body = frame.body;
  }

  show(): void {
    if (this.items === null) void this.load(true);
  }

  onEvent(event: string): void {
    if (REFRESHING_EVENTS.has(event)) this.refreshSoon();
  }

  async load(showSpinner = false): Promise<void> {
    if (showSpinner || this.items === null) {
      this.body.setAttribute("aria-busy", "true");
      replace(this.body, loadingState("Loading actions…"));
    }
    try {
      this.items = (await api<{ approvals: ApprovalView[] }>("GET", "/api/approvals")).approvals;
      this.render();
    } catch (error) {
      this.items = null;
      replace(
        this.body,
        errorState(`Could not load actions: ${describeError(error)}`, () => void this.load(true)),
      );
    } finally {
      this.body.removeAttribute("aria-busy");
    }
  }

  private render(): void {
    const items = this.items ?? [];
    this.onCount(items.length);
    if (items.length === 0) {
      replace(
        this.body,
        emptyState(
          "No action is waiting for approval.",
          "When an agent asks before running a tool, it shows up here without reloading.",
        ),
      );
      return;
    }
    replace(this.list, ...items.map((item) => this.card(item)));
    replace(this.body, this.list);
  }

  private card(item: ApprovalView): HTMLElement {
    const what = `${item.tool} for ${item.agent || "an agent"}`;
    const error = h("p", { class: "inline-error", role: "alert" });
    const approve = h(
      "button",
      { type: "button", class: "button primary", "aria-label": `Approve ${what}` },
      "Approve",
    );
    const deny = h("button", { type: "button", class: "button danger", "aria-label": `Deny ${what}` }, "Deny");
    const act = async (action: "approve" | "deny"): Promise<void> => {
      if (this.busy.has(item.id)) return;
      this.busy.add(item.id);
      approve.disabled = deny.disabled = true;
      error.textContent = "";
      try {
        const result = await api<{ decided: boolean; approval: ApprovalView }>(
          "POST",
          `/api/approvals/${encodeURIComponent(item.id)}/${action}`,
          {},
        );
        if (!result.decided)
          throw new Error(
            `Already decided: ${result.approval.status}${result.approval.approver ? ` by ${result.approval.approver}` : ""}.`,
          );
        this.items = (this.items ?? []).filter((a) => a.id !== item.id);
        this.render();
        announce(action === "approve" ? `Approved ${what}.` : `Denied ${what}.`);
      } catch (err) {
        error.textContent = describeError(err);
        this.refreshSoon();
      } finally {
        this.busy.delete(item.id);
      }
    };
    approve.addEventListener("click", () => void act("approve"));
    deny.addEventListener("click", () => void act("deny"));
    // textContent only (h() never parses HTML): whatever the agent sent is shown as text.
    const args = JSON.stringify(item.arguments, null, 2) ?? "null";
    return h(
      "li",
      { class: "card action-card", "data-request": item.id },
      h(
        "div",
        { class: "card-main" },
        h(
          "p",
          { class: "card-title" },
          h("span", { class: "mono" }, item.tool),
          h("span", { class: `badge risk-${item.risk}` }, `${item.risk} risk`),
        ),
        h(
          "dl",
          { class: "facts" },
          h("div", {}, h("dt", {}, "Agent"), h("dd", {}, item.agent || "-")),
          h("div", {}, h("dt", {}, "Session"), h("dd", { class: "mono" }, item.session || "-")),
          h("div", {}, h("dt", {}, "Asked"), h("dd", {}, `${formatAge((Date.now() - item.createdAt) / 1000)} ago`)),
        ),
        h(
          "pre",
          { class: "arguments", "aria-label": "Arguments" },
          args.length > MAX_ARGUMENTS ? `${args.slice(0, MAX_ARGUMENTS)}…` : args,
        ),
        error,
      ),
      h("div", { class: "card-actions" }, approve, deny),
    );
  }
}
