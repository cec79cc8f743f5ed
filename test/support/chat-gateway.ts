/** A real gateway (createGateway over a store URL) with an in-memory chat channel, for the security and reliability suites. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { channelPlugin } from "../../src/channels/router.js";
import type { GatewayOptions } from "../../src/gateway/index.js";
import { InMemoryChatAdapter } from "../channels-context.js";
import { startGateway, type StoreKind, type TestGateway } from "../gateway-helpers.js";

export const CHAT = "chat";
export const CHAT_OWNER = "owner-1";

export interface ChatGateway extends TestGateway {
  adapter: InMemoryChatAdapter;
}

/** A gateway whose chat channel has one configured owner (CHAT_OWNER, who DMs from chat id = user id). */
export async function startChatGateway(
  options: GatewayOptions & { storeKind?: StoreKind; routerNow?: () => number } = {},
): Promise<ChatGateway> {
  const adapter = new InMemoryChatAdapter(CHAT);
  const { routerNow, ...rest } = options;
  const gw = await startGateway({
    ...rest,
    channels: [channelPlugin(adapter, { ownerUserIds: [CHAT_OWNER], ...(routerNow ? { now: routerNow } : {}) })],
  });
  return { ...gw, adapter };
}

/** A fixed store URL several gateways (or processes) can share: one SQLite file in a temp dir. */
export function sharedSqlite(): { kind: StoreKind; url: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), "gh-shared-"));
  const url = `sqlite:${join(dir, "gatehouse.db")}`;
  return {
    url,
    kind: { name: "sqlite-shared", make: () => ({ url, cleanup() {} }) },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Every needle that occurs in the captured log lines (empty when none leaked). */
export function leaks(lines: readonly string[], needles: readonly string[]): string[] {
  const text = lines.join("\n");
  return needles.filter((needle) => needle.length >= 6 && text.includes(needle));
}
