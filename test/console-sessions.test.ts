import { describe, expect, it } from "vitest";
import { ConsoleSessions, TICKET_PREFIX } from "../src/gateway/console/index.js";
import { openMemoryStores } from "../src/stores/memory/index.js";

const SECRET = Buffer.alloc(32, 5);

function clock(start = 1_000_000): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe("console sessions", () => {
  it("mint random ids and CSRF values, and keep the token server-side", async () => {
    const sessions = new ConsoleSessions(SECRET, undefined);
    const a = await sessions.create("token-a");
    const b = await sessions.create("token-b");
    expect(a.id).not.toBe(b.id);
    expect(a.csrf).not.toBe(a.id);
    expect(Buffer.from(a.id, "base64url")).toHaveLength(32);
    expect((await sessions.get(a.id))?.token).toBe("token-a");
    expect(await sessions.get("unknown")).toBeNull();
  });

  it("end after the idle time without use, and after the absolute lifetime however busy", async () => {
    const c = clock();
    const sessions = new ConsoleSessions(SECRET, undefined, { now: c.now, idleTtlMs: 1_000, absoluteTtlMs: 5_000 });
    const idle = await sessions.create("t");
    c.advance(999);
    expect(await sessions.get(idle.id)).not.toBeNull();
    c.advance(1_000);
    expect(await sessions.get(idle.id)).toBeNull();

    const busy = await sessions.create("t");
    for (let i = 0; i < 4; i += 1) {
      c.advance(900);
      expect(await sessions.get(busy.id)).not.toBeNull();
    }
    c.advance(1_500);
    expect(await sessions.get(busy.id)).toBeNull();
  });

  it("tickets are single use, expire, die with their session, and are refused when forged", async () => {
    const c = clock();
    const sessions = new ConsoleSessions(SECRET, undefined, { now: c.now, ticketTtlMs: 100 });
    const session = await sessions.create("t");
    const first = sessions.issueTicket(session);
    expect(first.ticket.startsWith(TICKET_PREFIX)).toBe(true);
    expect(first.expiresAt).toBe(c.now() + 100);
    expect((await sessions.redeemTicket(first.ticket))?.ref).toBe(session.ref);
    expect(await sessions.redeemTicket(first.ticket)).toBeNull();

    const late = sessions.issueTicket(session);
    c.advance(100);
    expect(await sessions.redeemTicket(late.ticket)).toBeNull();

    // Signed with another gateway secret, or altered: refused.
    const foreign = new ConsoleSessions(Buffer.alloc(32, 6), undefined, { now: c.now }).issueTicket(session);
    expect(await sessions.redeemTicket(foreign.ticket)).toBeNull();
    const fresh = sessions.issueTicket(session);
    const altered = fresh.ticket.replace(
      /\.([0-9a-z]+)\./,
      (_, expiry: string) => `.${(parseInt(expiry, 36) + 1).toString(36)}.`,
    );
    expect(await sessions.redeemTicket(altered)).toBeNull();

    const orphan = sessions.issueTicket(session);
    await sessions.destroy(session.id);
    expect(await sessions.redeemTicket(orphan.ticket)).toBeNull();
    expect(await sessions.redeemTicket("ghws_short")).toBeNull();
    expect(await sessions.redeemTicket(`${TICKET_PREFIX}${"A".repeat(43)}`)).toBeNull();
  });

  it("keep in the store only the hash of the cookie value, with the token and CSRF value sealed", async () => {
    const stores = openMemoryStores();
    const seen: Array<{ id: string; record: unknown }> = [];
    const sessionsStore = {
      bind: async (id: string, principal: Parameters<typeof stores.sessions.bind>[1]) => {
        seen.push({ id, record: principal });
        return stores.sessions.bind(id, principal);
      },
      lookup: (id: string) => stores.sessions.lookup(id),
      unbind: (id: string) => stores.sessions.unbind(id),
    };
    const sessions = new ConsoleSessions(SECRET, { sessions: sessionsStore });
    const session = await sessions.create("owner-token-value-0123456789");
    const written = JSON.stringify(seen);
    expect(written).not.toContain(session.id);
    expect(written).not.toContain("owner-token-value-0123456789");
    expect(written).not.toContain(session.csrf);
    expect(seen[0]?.id).toContain(session.ref);
    // Another gateway with the same secret reads it; one with another secret cannot open it.
    expect((await new ConsoleSessions(SECRET, { sessions: sessionsStore }).get(session.id))?.token).toBe(
      "owner-token-value-0123456789",
    );
    expect(await new ConsoleSessions(Buffer.alloc(32, 6), { sessions: sessionsStore }).get(session.id)).toBeNull();
    await stores.close();
  });
});
