import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";

/** Where the built console may be: `web/dist` under the working directory, else beside the installed package. */
export function findConsoleDir(explicit?: string): string | null {
  const candidates =
    explicit !== undefined
      ? [resolve(explicit)]
      : [
          resolve("web/dist"),
          fileURLToPath(new URL("../../web/dist", import.meta.url)),
          fileURLToPath(new URL("../../../web/dist", import.meta.url)),
        ];
  for (const dir of candidates) {
    if (existsSync(dir) && statSync(dir).isDirectory() && existsSync(resolve(dir, "index.html"))) return dir;
  }
  return null;
}

/** The public webchat page's folder inside the built console (web/build.ts), served at /chat/. */
export const CHAT_PAGE_DIR = "chat";

/** Whether the built console in `dir` has the chat page (a console built before it existed has not). */
export function hasChatPage(dir: string): boolean {
  return existsSync(resolve(dir, CHAT_PAGE_DIR, "index.html"));
}

/**
 * Serves the web console's static files at /console/ and, when built, the public webchat page at /chat/ (no auth needed
 * for the files: the console's API is guarded, and the chat page's socket goes through webchat admission like any
 * device).
 */
export async function registerConsole(app: FastifyInstance, dir: string): Promise<void> {
  const chatPrefix = `/${CHAT_PAGE_DIR}/`;
  await app.register(fastifyStatic, {
    root: dir,
    prefix: "/console/",
    index: ["index.html"],
    redirect: true,
    dotfiles: "deny",
    decorateReply: false,
    // The chat page has its own address; /console/chat/ would only be a second copy of it.
    allowedPath: (pathName) => !pathName.startsWith(chatPrefix),
  });
  app.get("/console", async (_request, reply) => reply.redirect("/console/"));
  if (!hasChatPage(dir)) return;
  await app.register(fastifyStatic, {
    root: resolve(dir, CHAT_PAGE_DIR),
    prefix: chatPrefix,
    index: ["index.html"],
    redirect: true,
    dotfiles: "deny",
    decorateReply: false,
  });
  app.get("/chat", async (_request, reply) => reply.redirect(chatPrefix));
}
