/**
 * Builds the owner console into web/dist: src/main.ts bundled (esbuild, no CDN, no runtime dependencies), the page and
 * its stylesheet copied. Run by `npm run build:web` (part of `npm run build`); tests call buildConsole() directly.
 */
import { build } from "esbuild";
import { copyFile, mkdir, rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

export async function buildConsole(outDir = here("./dist/")): Promise<string> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: [here("./src/main.ts")],
    outfile: `${outDir}/app.js`,
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
  return outDir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = await buildConsole();
  console.log(`console built into ${out}`);
}
