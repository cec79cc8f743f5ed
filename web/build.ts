/**
 * Builds the owner console into web/dist: src/main.ts bundled (esbuild, no CDN, no runtime dependencies), the page and
 * its stylesheet copied; and the public webchat page into web/dist/chat/ (src/chat-page/main.ts, its page, the same
 * stylesheet and its own few rules), served at /chat/. Run by `npm run build:web` (part of `npm run build`); tests call buildConsole() directly.
 */
import { build } from "esbuild";
import { copyFile, mkdir, rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

export async function buildConsole(outDir = here("./dist/")): Promise<string> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: { app: here("./src/main.ts"), "chat/app": here("./src/chat-page/main.ts") },
    outdir: outDir,
    bundle: true,
    format: "esm",
    target: ["es2022"],
    minify: true,
    sourcemap: false,
    legalComments: "none",
    logLevel: "warning",
  });
  await copyFile(here("./src/index.html"), `${outDir}/index.html`);
  await copyFile(here("./src/styles.css"), `${outDir}/app.css`);
  await copyFile(here("./src/chat-page/index.html"), `${outDir}/chat/index.html`);
  await copyFile(here("./src/styles.css"), `${outDir}/chat/app.css`);
  await copyFile(here("./src/chat-page/page.css"), `${outDir}/chat/page.css`);
  return outDir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = await buildConsole();
  console.log(`console built into ${out}`);
}
