import { AGENT_FAILURE_MESSAGES, type AgentFailure } from "../agents/errors.js";
import { COMMAND_REPLIES } from "../conversation/commands.js";
import { UNAVAILABLE_MESSAGE } from "../core/admission.js";

/** Everything the router says to senders and owners; override any line through channelPlugin's options. */
export interface RouterMessages {
  pendingNew(code: string): string;
  pendingRepeat(code: string): string;
  approved(): string;
  denied(): string;
  unavailable: string;
  /** What the sender is told when the agent could not answer, by kind of failure (rate limit, timeout, …). */
  agentFailed(failure: AgentFailure): string;
  /** Too many messages already wait while the agent answers this sender. */
  busy: string;
  pairUsage: string;
  pairBadCode: string;
  pairRefused: string;
  pairAccepted: string;
  ownerClaimUsage: string;
  ownerClaimRefused: string;
  /** The claimant became an owner of this bot's `channelType` channel. */
  ownerClaimed: (channelType: string) => string;
  buttonNotOwner: string;
  buttonWrongChat: string;
  buttonInvalid: string;
  buttonExpired: string;
  buttonHandled: string;
  buttonApproved(code: string, who: string): string;
  buttonDenied(code: string, who: string): string;
  buttonNoDeny: string;
  buttonFailed: string;
  actionApproved(tool: string): string;
  actionDenied(tool: string): string;
  /** A press on a card someone already decided (here, on another channel, in the console or CLI, or by expiry). */
  actionHandled(decision: string): string;
  /** Posted in a group that is not approved yet (never a code: codes go to private chats only). */
  groupPending: string;
  /** Posted in a group for a member who must pair first; `name` is their display name. */
  groupAskPrivately(name: string): string;
  /** Posted in a group when an owner writes there before approving it. */
  groupOwnerHint: string;
  groupApproved: string;
  groupDenied: string;
  groupAlreadyApproved: string;
}

export const DEFAULT_MESSAGES: RouterMessages = {
  pendingNew: (code) =>
    `Hi! This assistant only talks to people its owner has approved. Your request code is ${code}; ` +
    `the owner has been asked. You will get a message here once they decide.`,
  pendingRepeat: (code) => `Your request ${code} is still waiting for the owner. You will hear back here.`,
  approved: () => "Good news: the owner approved you. You can talk to the assistant now.",
  denied: () => "Sorry, the owner declined your request. You may ask again later.",
  unavailable: UNAVAILABLE_MESSAGE,
  agentFailed: (failure) => AGENT_FAILURE_MESSAGES[failure],
  busy: COMMAND_REPLIES.busy,
  pairUsage: "Send /pair followed by your invite code, for example: /pair ABCD-EFGH",
  pairBadCode: "That does not look like an invite code (8 letters and digits, like ABCD-EFGH).",
  pairRefused: "That invite code is not valid, has expired or was already used.",
  pairAccepted: "Welcome! Your invite was accepted. You can talk to the assistant now.",
  ownerClaimUsage: "Send /owner followed by the owner-claim code the gateway printed, for example: /owner ABCD-EFGH",
  ownerClaimRefused: "That owner-claim code is not valid, has expired or was already used.",
  ownerClaimed: (channelType) =>
    `You are now an owner of this bot's ${channelType} channel. Approve/Deny cards for new senders will come to this chat.`,
  buttonNotOwner: "Only the owner can approve or deny requests.",
  buttonWrongChat: "Please use the buttons in your own direct chat with the bot.",
  buttonInvalid: "This button is not valid. Nothing was changed.",
  buttonExpired: "This request has expired. Nothing was changed.",
  buttonHandled: "This request was already handled.",
  buttonApproved: (code, who) => `Approved ${code} (${who}). They have been told.`,
  buttonDenied: (code, who) => `Denied ${code} (${who}). They have been told.`,
  buttonNoDeny: "Deny is not supported by this store: the request stays pending until it expires. Nothing was changed.",
  buttonFailed: "Something went wrong. Nothing was changed; please try again.",
  actionApproved: (tool) => `Approved: the agent may run ${tool}.`,
  actionDenied: (tool) => `Denied: the agent will not run ${tool}.`,
  actionHandled: (decision) => `Already decided. ${decision} Nothing was changed.`,
  groupPending: "This group is not approved to use the assistant yet; the owner has been asked.",
  groupAskPrivately: (name) => `${name ? `${name}, please` : "Please"} message me privately to get access first.`,
  groupOwnerHint:
    "This group is not approved yet. Send /pair group here to approve it, or approve it from the console.",
  groupApproved:
    "This group is approved: address me (mention me, reply to me, or use a command) to talk to the assistant.",
  groupDenied: "The owner declined this group's request.",
  groupAlreadyApproved: "This group is already approved.",
};
