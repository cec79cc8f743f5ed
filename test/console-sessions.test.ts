import { describe, expect, it } from "vitest";
import { ConsoleSessions, TICKET_PREFIX } from "../src/gateway/console/index.js";

function clock(start = 1_000_000): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe("console sessions", () => {
  it("mint random ids and CSRF values, and keep the token server-side", () => {
    const sessions = new ConsoleSessions();
    const a = sessions.create("token-a");
    const b = sessions.create("token-b");
    expect(a.id).not.toBe(b.id);
    expect(a.csrf).not.toBe(a.id);
    expect(Buffer.from(a.id, "base64url")).toHaveLength(32);
    expect(sessions.get(a.id)?.token).toBe("token-a");
    expect(sessions.get("unknown")).toBeNull();
  });

  it("end after the idle time without use, and after the absolute lifetime however busy", () => {
    const c = clock();
    const sessions = new ConsoleSessions({ now: c.now, idleTtlMs: 1_000, absoluteTtlMs: 5_000 });
    const idle = sessions.create("t");
    c.advance(999);
    expect(sessions.get(idle.id)).not.toBeNull();
    c.advance(1_000);
    expect(sessions.get(idle.id)).toBeNull();

    const busy = sessions.create("t");
    for (let i = 0; i < 4; i += 1) {
      c.advance(900);
      expect(sessions.get(busy.id)).not.toBeNull();
    }
    c.advance(1_500);
    expect(sessions.get(busy.id)).toBeNull();
  });

  it("tickets are single use, expire, and die with their session", () => {
    const c = clock();
    const sessions = new ConsoleSessions({ now: c.now, ticketTtlMs: 100 });
    const session = sessions.create("t");
    const first = sessions.issueTicket(session);
    expect(first.ticket.startsWith(TICKET_PREFIX)).toBe(true);
    expect(first.expiresAt).toBe(c.now() + 100);
    expect(sessions.redeemTicket(first.ticket)?.id).toBe(session.id);
    expect(sessions.redeemTicket(first.ticket)).toBeNull();

    const late = sessions.issueTicket(session);
    c.advance(100);
    expect(sessions.redeemTicket(late.ticket)).toBeNull();

    const orphan = sessions.issueTicket(session);
    sessions.destroy(session.id);
    expect(sessions.redeemTicket(orphan.ticket)).toBeNull();
    expect(sessions.redeemTicket("ghws_short")).toBeNull();
    expect(sessions.redeemTicket(`${TICKET_PREFIX}${"A".repeat(43)}`)).toBeNull();
  });

  it("keep at most maxSessions, dropping the oldest", () => {
    const sessions = new ConsoleSessions({ maxSessions: 2 });
    const first = sessions.create("1");
    const second = sessions.create("2");
    const third = sessions.create("3");
    expect(sessions.size).toBe(2);
    expect(sessions.get(first.id)).toBeNull();
    expect(sessions.get(second.id)).not.toBeNull();
    expect(sessions.get(third.id)).not.toBeNull();
  });
});
