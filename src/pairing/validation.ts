import { PairingInputError } from "./errors.js";

const CHANNEL_TYPE = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
const MAX_ID_LENGTH = 256;
const MAX_NAME_LENGTH = 256;
export const MAX_FIRST_MESSAGE_LENGTH = 4000;
// Control characters (C0, DEL, C1) never belong in ids or names.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Why a channel type is unacceptable, or null when it is fine. */
export function channelTypeProblem(value: unknown): string | null {
  if (typeof value !== "string") return "must be a string";
  if (!CHANNEL_TYPE.test(value)) return "must be 1-64 lower-case letters, digits, '.', '_' or '-'";
  return null;
}

/** Why an id (channel, user, session) is unacceptable, or null when it is fine. */
export function idProblem(value: unknown): string | null {
  if (typeof value !== "string") return "must be a string";
  if (value.length === 0) return "must not be empty";
  if (value.length > MAX_ID_LENGTH) return `must be at most ${MAX_ID_LENGTH} characters`;
  if (CONTROL.test(value)) return "must not contain control characters";
  return null;
}

export function isValidChannelType(value: unknown): value is string {
  return channelTypeProblem(value) === null;
}

export function isValidId(value: unknown): value is string {
  return idProblem(value) === null;
}

export function assertChannelType(value: unknown, field = "channelType"): asserts value is string {
  const problem = channelTypeProblem(value);
  if (problem) throw new PairingInputError(field, problem);
}

export function assertId(value: unknown, field: string): asserts value is string {
  const problem = idProblem(value);
  if (problem) throw new PairingInputError(field, problem);
}

/** A display name: optional, a string of at most 256 characters without control characters. */
export function assertName(value: unknown, field: string): asserts value is string | undefined {
  if (value === undefined || value === "") return;
  if (typeof value !== "string") throw new PairingInputError(field, "must be a string");
  if (value.length > MAX_NAME_LENGTH)
    throw new PairingInputError(field, `must be at most ${MAX_NAME_LENGTH} characters`);
  if (CONTROL.test(value)) throw new PairingInputError(field, "must not contain control characters");
}

export function assertFirstMessage(value: unknown): asserts value is string | undefined {
  if (value === undefined) return;
  if (typeof value !== "string") throw new PairingInputError("firstMessage", "must be a string");
  if (value.length > MAX_FIRST_MESSAGE_LENGTH) {
    throw new PairingInputError("firstMessage", `must be at most ${MAX_FIRST_MESSAGE_LENGTH} characters`);
  }
}

/** A user id passed to approve: "" (owner approval) or a valid id. */
export function isValidOptionalId(value: unknown): value is string {
  return value === "" || isValidId(value);
}
