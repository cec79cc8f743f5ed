import { api } from "../api.js";
import { h } from "../dom.js";
import { formatAge } from "../format.js";
import { announce } from "../state.js";
import type { ApprovalView } from "../../../src/gateway/approvals/actions.js";
import { DecisionListView } from "./decision-list.js";

const MAX_ARGUMENTS = 2_000;

/** Agents' actions waiting for the owner: tool, arguments, risk, agent and session, with Approve / Deny. Live. */
export class ActionsView extends DecisionListView<ApprovalView> {
  constructor(onCount: (count: number) => void) {
    super(
      {
        id: "actions",
        label: "Actions",
        title: "Actions waiting for approval",
        intro: "Tools your agents want to run. The first decision anywhere (here, a chat card, the CLI) wins.",
        noun: "actions",
        empty: [
          "No action is waiting for approval.",
          "When an agent asks before running a tool, it shows up here without reloading.",
        ],
        refreshingEvents: new Set(["resync", "approval.requested", "approval.decided"]),
      },
      onCount,
    );
  }

  protected async fetchItems(): Promise<ApprovalView[]> {
    return (await api<{ approvals: ApprovalView[] }>("GET", "/api/approvals")).approvals;
  }

  protected card(item: ApprovalView): HTMLElement {
    const what = `${item.tool} for ${item.agent || "an agent"}`;
    const { approve, deny, error } = this.decisionControls(
      item.id,
      what,
      async (action) => {
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
      },
      false,
    );
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
