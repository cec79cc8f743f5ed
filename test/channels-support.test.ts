import { describe, expect, it } from "vitest";
import { splitText } from "../src/channels/text/index.js";
import { importChannelSdk, MissingChannelPackageError, tokenFromEnv } from "../src/channels/channel.js";
import { errorName, redact } from "../src/channels/redact.js";

describe("channel support helpers", () => {
  it("redacts bot tokens and long opaque strings from error text", () => {
    const text =
      "call failed for 123456789:AAH-abcdefghijklmnopqrstuvwxyz012 with xoxb-123-456-abc and k=" + "Z".repeat(40);
    const out = redact(text);
    expect(out).not.toContain("123456789:AAH");
    expect(out).not.toContain("xoxb-123");
    expect(out).not.toContain("Z".repeat(40));
    expect(out).toContain("call failed for");
    expect(errorName(new TypeError("bad 123456789:AAH-abcdefghijklmnopqrstuvwxyz012"))).toBe(
      "TypeError: bad [redacted]",
    );
  });

  it("splits long replies into platform-sized pieces without losing text", () => {
    const text = Array.from({ length: 300 }, (_, i) => `line ${i}`).join("\n");
    const parts = splitText(text, 100);
    expect(parts.every((p) => p.length <= 100)).toBe(true);
    expect(parts.join("\n")).toBe(text);
    expect(splitText("x".repeat(250), 100).map((p) => p.length)).toEqual([100, 100, 50]);
    expect(splitText("", 100)).toEqual([]);
  });

  it("names the package to install when an SDK is missing", async () => {
    await expect(
      importChannelSdk("grammy-not-installed", "telegram", () => import("grammy-not-installed" as string)),
    ).rejects.toThrow(MissingChannelPackageError);
    await expect(
      importChannelSdk("grammy-not-installed", "telegram", () => import("grammy-not-installed" as string)),
    ).rejects.toThrow(/npm install grammy-not-installed/);
  });

  it("reads tokens from the environment, refusing empty and placeholder values without echoing them", () => {
    expect(tokenFromEnv("T", "telegram", { T: " 1:abc " })).toBe("1:abc");
    expect(() => tokenFromEnv("T", "telegram", {})).toThrow(/needs T set/);
    expect(() => tokenFromEnv("T", "telegram", { T: "   " })).toThrow(/needs T set/);
    expect(() => tokenFromEnv("T", "telegram", { T: "changeme" })).toThrow(/placeholder/);
  });
});
