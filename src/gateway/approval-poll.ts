/** The approval poll now runs in the webchat channel (src/channels/webchat); its interval stays importable here. */
export { APPROVAL_POLL_INTERVAL_MS } from "../core/approval-poll.js";
