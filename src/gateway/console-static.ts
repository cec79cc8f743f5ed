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

/** Serves the web console's static files at /console/ (no auth needed for the files; the API it calls is guarded). */
export async function registerConsole(app: FastifyInstance, dir: string): Promise<void> {
  await app.register(fastifyStatic, {
    root: dir,
    prefix: "/console/",
    index: ["index.html"],
    redirect: true,
    dotfiles: "deny",
    decorateReply: false,
  });
  app.get("/console", async (_request, reply) => reply.redirect("/console/"));
}
