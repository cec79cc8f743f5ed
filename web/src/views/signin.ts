import { api, describeError, type ConsoleSessionInfo } from "../api.js";
import { h } from "../dom.js";

/**
 * Sign-in with an owner or admin token. The token goes once to POST /console/login, which answers with an HttpOnly
 * cookie; the page never stores it (no localStorage, and the field is cleared straight away).
 */
export function signInView(onSignedIn: (info: ConsoleSessionInfo) => void, notice?: string): HTMLElement {
  const token = h("input", {
    id: "token",
    name: "token",
    type: "password",
    required: true,
    autocomplete: "off",
    spellcheck: "false",
    "aria-describedby": "token-hint",
  });
  const error = h("p", { id: "signin-error", class: "inline-error", role: "alert" }, notice ?? "");
  const submit = h("button", { type: "submit", class: "button primary wide" }, "Sign in");
  const form = h(
    "form",
    { class: "signin-form", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, "Gatehouse console"),
    h("p", { class: "muted" }, "Approve who may talk to your agent, see who is paired, and read the audit log."),
    h("div", { class: "field" }, h("label", { for: "token" }, "Owner or admin token"), token),
    h(
      "p",
      { id: "token-hint", class: "muted small" },
      "The gateway prints an owner token on its first start; make another with ",
      h("code", {}, "gatehouse token create --role owner"),
      ".",
    ),
    submit,
    error,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = token.value.trim();
    token.value = "";
    if (value === "") {
      error.textContent = "Enter your token.";
      token.focus();
      return;
    }
    submit.disabled = true;
    error.textContent = "";
    try {
      onSignedIn(await api<ConsoleSessionInfo>("POST", "/console/login", { token: value }));
    } catch (err) {
      error.textContent = `Sign-in failed: ${describeError(err)}`;
      token.focus();
    } finally {
      submit.disabled = false;
    }
  });
  return h("main", { id: "main", class: "signin" }, form);
}
