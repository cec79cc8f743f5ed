import { api, ApiError, describeError } from "../api.js";
import { h, replace, uid } from "../dom.js";
import { emptyState, errorState, loadingState } from "../state.js";
import { viewFrame, type View } from "./view.js";

/** Who a session id belongs to (GET /api/sessions/:id). */
export class SessionsView implements View {
  readonly id = "sessions";
  readonly label = "Sessions";
  readonly element: HTMLElement;
  private readonly result = h("div", { class: "session-result" });

  constructor() {
    const inputId = uid("session-id");
    const input = h("input", {
      id: inputId,
      name: "sessionId",
      required: true,
      autocomplete: "off",
      spellcheck: "false",
      class: "mono",
    });
    const submit = h("button", { type: "submit", class: "button primary" }, "Look up");
    const form = h(
      "form",
      { class: "lookup-form", role: "search", "aria-label": "Look up a session" },
      h("div", { class: "field grow" }, h("label", { for: inputId }, "Session id"), input),
      submit,
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const id = input.value.trim();
      if (id === "") {
        replace(this.result, errorState("Enter a session id to look up."));
        input.focus();
        return;
      }
      submit.disabled = true;
      this.result.setAttribute("aria-busy", "true");
      replace(this.result, loadingState("Looking up the session…"));
      try {
        const { principal } = await api<{ principal: Record<string, unknown> }>(
          "GET",
          `/api/sessions/${encodeURIComponent(id)}`,
        );
        replace(
          this.result,
          h(
            "div",
            { class: "card" },
            h("p", { class: "card-title" }, "Session found"),
            h(
              "dl",
              { class: "facts" },
              ...Object.entries(principal).map(([key, value]) =>
                h(
                  "div",
                  {},
                  h("dt", {}, key),
                  h("dd", { class: "mono" }, typeof value === "string" ? value : JSON.stringify(value)),
                ),
              ),
            ),
          ),
        );
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) {
          replace(
            this.result,
            emptyState(
              "No session with this id.",
              "Sessions end after a period without use; the id may also be mistyped.",
            ),
          );
        } else {
          replace(this.result, errorState(`Could not look up the session: ${describeError(error)}`));
        }
      } finally {
        submit.disabled = false;
        this.result.removeAttribute("aria-busy");
      }
    });
    const frame = viewFrame("sessions", "Session lookup", "Find out which principal a session id is bound to.");
    this.element = frame.element;
    frame.body.append(form, this.result);
    replace(
      this.result,
      emptyState("Enter a session id above.", "Session ids appear in the audit log and in the WebSocket hello."),
    );
  }

  show(): void {}
}
