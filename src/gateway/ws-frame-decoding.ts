import type { RawData } from "ws";
import { fromZodError, GatewayError } from "../core/errors.js";
import { requestFrame, type RequestFrame } from "../core/schemas.js";
import { fastRequestFrame } from "./fast-frames.js";
import { rawText } from "./ws-writer.js";

/** An incoming WebSocket frame read as JSON, with its `type`; or why it could not be read. */
export type DecodedFrame = { ok: true; frame: unknown; type: unknown } | { ok: false; error: GatewayError };

/** Reads one frame: only JSON text frames are accepted. */
export function decodeFrame(data: RawData, isBinary: boolean): DecodedFrame {
  if (isBinary) return { ok: false, error: new GatewayError("invalid_request", "only JSON text frames are accepted") };
  let frame: unknown;
  try {
    frame = JSON.parse(rawText(data));
  } catch {
    return { ok: false, error: new GatewayError("invalid_json", "frame is not valid JSON") };
  }
  const type = frame !== null && typeof frame === "object" ? (frame as { type?: unknown }).type : undefined;
  return { ok: true, frame, type };
}

/** A `req` frame checked against its schema (hand checks first, zod for the rest); a refusal keeps the frame's id when it has one. */
export type ParsedRequest =
  | { ok: true; request: RequestFrame }
  | { ok: false; id: string | number | undefined; error: GatewayError };

export function parseRequestFrame(frame: unknown): ParsedRequest {
  const fast = fastRequestFrame(frame);
  if (fast !== undefined) return { ok: true, request: fast };
  const parsed = requestFrame.safeParse(frame);
  if (parsed.success) return { ok: true, request: parsed.data };
  const id = (frame as { id?: unknown }).id;
  return {
    ok: false,
    id: typeof id === "string" || typeof id === "number" ? id : undefined,
    error: fromZodError(parsed.error),
  };
}
