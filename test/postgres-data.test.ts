import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { MAX_FIRST_MESSAGE_LENGTH } from "../src/pairing/validation.js";
import { openPostgresStores } from "../src/stores/postgres/index.js";
import type { AuditQuery } from "../src/stores/types.js";
import { testSchemas } from "./postgres-helpers.js";

const { available, nextUrl } = await testSchemas("d");

describe.runIf(available)("postgres store: stored text comes back exactly", () => {
  it("keeps any first message (NUL, emoji, quotes, maximum length) in pendingFor and the approval event", async () => {
    const stores = await openPostgresStores(nextUrl(), { secret: randomBytes(32), maxPendingPerChannelType: 10 });
    try {
      const messages = [
        "nul \u0000 inside",
        "emoji 🦊 and ünïcödé",
        "'; DROP TABLE pending; -- \\ \" $1",
        "x".repeat(MAX_FIRST_MESSAGE_LENGTH),
        "",
      ];
      const seen: unknown[] = [];
      stores.pairing.subscribe((event) => {
        if (event.type === "approved") seen.push(event.detail.firstMessage);
      });
      for (const [i, message] of messages.entries()) {
        const code = await stores.pairing.generateCode("telegram", `user-${i}`, {
          userName: `User ${i}`,
          firstMessage: message,
        });
        expect((await stores.pairing.pendingFor(`user-${i}`, "telegram"))?.firstMessage).toBe(message);
        expect(await stores.pairing.approve("telegram", code)).toBe(true);
      }
      const approved = (await stores.pairing.audit({ type: "approved" })).events.map((e) => e.detail.firstMessage);
      expect(approved).toEqual(messages);
      await expect.poll(() => seen, { timeout: 5000 }).toEqual(messages);
    } finally {
      await stores.close();
    }
  });

  it("pages the audit log in numeric id order past 9, 99 ... (ids are not sorted as text)", async () => {
    const stores = await openPostgresStores(nextUrl(), { secret: randomBytes(32), maxPendingPerChannelType: 100 });
    try {
      for (let i = 0; i < 12; i++)
        await stores.pairing.approve("telegram", await stores.pairing.generateCode("telegram", `user-${i}`));
      const pages: string[][] = [];
      let after: string | undefined;
      do {
        const page = await stores.pairing.audit({ limit: 5, after });
        pages.push(page.events.map((e) => e.id));
        after = page.next ?? undefined;
      } while (after !== undefined);
      const ids = pages.flat();
      expect(ids).toEqual(Array.from({ length: 24 }, (_, i) => String(i + 1)));
      expect(pages.map((p) => p.length)).toEqual([5, 5, 5, 5, 4]);
      const approvals = await stores.pairing.audit({ type: "approved", after: "9" });
      expect(approvals.events.map((e) => e.channelId)).toEqual([
        "user-4",
        "user-5",
        "user-6",
        "user-7",
        "user-8",
        "user-9",
        "user-10",
        "user-11",
      ]);
    } finally {
      await stores.close();
    }
  });

  it("filters it cannot store match nothing and change nothing; empty filters are no filter", async () => {
    const stores = await openPostgresStores(nextUrl(), { secret: randomBytes(32) });
    try {
      await stores.pairing.generateCode("telegram", "alice");
      expect(await stores.pairing.listPending("tele\u0000gram")).toEqual([]);
      expect(await stores.pairing.audit({ channelType: "tele\u0000gram" })).toEqual({ events: [], next: null });
      expect(
        (await stores.pairing.audit({ type: "", channelType: "" } as unknown as AuditQuery)).events.map((e) => e.type),
      ).toEqual(["requested"]);
      expect(await stores.pairing.audit({ after: "not a number" })).toEqual({ events: [], next: null });
      expect((await stores.pairing.listPending()).map((p) => p.channelId)).toEqual(["alice"]);
    } finally {
      await stores.close();
    }
  });
});
