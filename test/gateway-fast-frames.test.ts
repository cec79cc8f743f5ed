import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fastChatSendText, fastRequestFrame } from "../src/gateway/fast-frames.js";
import { chatSendInput, requestFrame } from "../src/core/schemas.js";

/** Frames reach the gateway through JSON.parse, so every generated value goes through a JSON round trip first. */
const viaJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value) ?? "null");

const lengths = [0, 1, 2, 63, 64, 65, 127, 128, 129, 15_999, 16_000, 16_001];
const stringOfLength = fc
  .constantFrom(...lengths)
  .chain((n) => fc.constantFrom("a".repeat(n), "é".repeat(n), "😀".repeat(Math.ceil(n / 2))));
const edgyString = fc.oneof(
  fc.string({ maxLength: 140 }),
  stringOfLength,
  fc.constantFrom("req", "chat.send", "text", "__proto__"),
);
const edgyNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, 1.5, 2 ** 53 - 1, 2 ** 53, -(2 ** 53 - 1), -(2 ** 53), 1e300, Number.MAX_VALUE),
);
const anything = fc.oneof(edgyString, edgyNumber, fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 2 }));

/** Near-misses of `{"type":"req","id",…,"method",…,"params":{"text":…}}`: each key may be missing, wrong or extra. */
const chatParams = fc.oneof(
  fc.record({ text: fc.oneof(edgyString, anything) }),
  fc.record({ text: edgyString, extra: anything }),
  fc.dictionary(edgyString, anything, { maxKeys: 3 }),
  anything,
);
const frameLike = fc.record(
  {
    type: fc.oneof(fc.constant("req"), fc.constant("req"), anything),
    id: fc.oneof(edgyString, edgyNumber, anything),
    method: fc.oneof(fc.constant("chat.send"), edgyString, anything),
    params: chatParams,
    extra: anything,
  },
  { requiredKeys: [] },
);

describe("fast frame checks accept only what the zod schemas accept, and return what zod returns", () => {
  it("fastRequestFrame ⊆ requestFrame (property, JSON inputs)", () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.oneof(frameLike, anything), (raw) => {
        const frame = viaJson(raw);
        const fast = fastRequestFrame(frame);
        if (fast === undefined) return;
        accepted++;
        const parsed = requestFrame.safeParse(frame);
        expect(parsed.success).toBe(true);
        expect(fast).toStrictEqual(parsed.data);
      }),
      { numRuns: 3_000 },
    );
    // The property is not vacuous: the generator reaches the fast path often.
    expect(accepted).toBeGreaterThan(100);
  });

  it("fastChatSendText ⊆ chatSendInput (property, JSON inputs)", () => {
    let accepted = 0;
    fc.assert(
      fc.property(chatParams, (raw) => {
        const params = viaJson(raw);
        const text = fastChatSendText(params);
        if (text === undefined) return;
        accepted++;
        const parsed = chatSendInput.safeParse(params);
        expect(parsed.success).toBe(true);
        expect(parsed.data?.text).toBe(text);
      }),
      { numRuns: 3_000 },
    );
    expect(accepted).toBeGreaterThan(100);
  });

  it("takes the common chat.send frame, and hands every frame zod refuses back to zod", () => {
    const good = JSON.parse('{"type":"req","id":7,"method":"chat.send","params":{"text":"hello"}}') as unknown;
    expect(fastRequestFrame(good)).toStrictEqual({
      type: "req",
      id: 7,
      method: "chat.send",
      params: { text: "hello" },
    });
    expect(fastChatSendText({ text: "hello" })).toBe("hello");
    expect(fastRequestFrame({ type: "req", id: "a", method: "m", junk: 1 })).toStrictEqual({
      type: "req",
      id: "a",
      method: "m",
    });

    const badFrames: unknown[] = [
      null,
      [],
      "req",
      {},
      { type: "res", id: 1, method: "chat.send" },
      { type: "req", method: "chat.send" },
      { type: "req", id: "", method: "chat.send" },
      { type: "req", id: "x".repeat(129), method: "chat.send" },
      { type: "req", id: 1.5, method: "chat.send" },
      { type: "req", id: 2 ** 53, method: "chat.send" },
      { type: "req", id: Number.POSITIVE_INFINITY, method: "chat.send" },
      { type: "req", id: null, method: "chat.send" },
      { type: "req", id: true, method: "chat.send" },
      { type: "req", id: [1], method: "chat.send" },
      { type: "req", id: 1 },
      { type: "req", id: 1, method: "" },
      { type: "req", id: 1, method: "m".repeat(65) },
      { type: "req", id: 1, method: 5 },
      JSON.parse('{"type":"req","id":1,"method":"m","__proto__":{"x":1}}') as unknown,
    ];
    for (const frame of badFrames) {
      const zod = requestFrame.safeParse(frame);
      if (!zod.success) expect(fastRequestFrame(frame), JSON.stringify(frame)).toBeUndefined();
    }
    const badParams: unknown[] = [
      undefined,
      null,
      "hello",
      ["hello"],
      {},
      { text: "" },
      { text: "x".repeat(16_001) },
      { text: 5 },
      { text: null },
      { text: "hi", extra: true },
      { Text: "hi" },
      JSON.parse('{"text":"hi","__proto__":{"a":1}}') as unknown,
    ];
    for (const params of badParams) {
      expect(chatSendInput.safeParse(params).success, JSON.stringify(params)).toBe(false);
      expect(fastChatSendText(params), JSON.stringify(params)).toBeUndefined();
    }
  });
});
