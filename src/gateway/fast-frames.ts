import type { RequestFrame } from "../core/schemas.js";

/**
 * Hand checks for the common shapes of WebSocket input, tried before the zod schemas in schemas.ts (which stay the
 * validators of record). Each accepts only values its schema accepts, and returns what the schema would have returned;
 * anything else gives undefined and goes through zod, so refusals and their error messages are zod's.
 * test/gateway-fast-frames.test.ts checks the subset property against the schemas.
 */

/** The limits of `requestFrame` and `chatSendInput` in schemas.ts. */
const ID_MAX_LENGTH = 128;
const METHOD_MAX_LENGTH = 64;
const TEXT_MAX_LENGTH = 16_000;

/** An object as JSON.parse makes them (zod's object schemas accept these and more). */
function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

/** `requestFrame.parse(frame)` for frames that pass it, without zod; undefined means "ask zod". */
export function fastRequestFrame(frame: unknown): RequestFrame | undefined {
  if (!isJsonObject(frame) || frame.type !== "req") return undefined;
  const { id, method, params } = frame;
  if (typeof id === "string") {
    if (id.length < 1 || id.length > ID_MAX_LENGTH) return undefined;
  } else if (!Number.isSafeInteger(id)) return undefined;
  if (typeof method !== "string" || method.length < 1 || method.length > METHOD_MAX_LENGTH) return undefined;
  // zod strips keys it does not know; params is optional and any value.
  const request = { type: "req", id, method } as RequestFrame;
  if (Object.hasOwn(frame, "params")) request.params = params;
  return request;
}

/** The `text` of `chatSendInput.parse(params)` for params that pass it, without zod; undefined means "ask zod". */
export function fastChatSendText(params: unknown): string | undefined {
  if (!isJsonObject(params) || !Object.hasOwn(params, "text")) return undefined;
  const { text } = params;
  if (typeof text !== "string" || text.length < 1 || text.length > TEXT_MAX_LENGTH) return undefined;
  // A strict object: `text` must be the only key.
  return Object.keys(params).length === 1 ? text : undefined;
}
