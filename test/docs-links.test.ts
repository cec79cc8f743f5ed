/**
 * The documentation a user gets (README, docs/, the gateway README) links only to files in the repository and to
 * headings that exist, and docs/protocols.md ships in the npm package.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { anchorsOf } from "./support/markdown.js";

const root = resolve(import.meta.dirname, "..");
const documents = [
  "README.md",
  "SECURITY.md",
  "src/gateway/README.md",
  "examples/README.md",
  ...readdirSync(join(root, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => `docs/${name}`),
];

function linksOf(markdown: string): string[] {
  const withoutCode = markdown.replace(/```[\s\S]*?```/g, "");
  return [...withoutCode.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1] as string);
}

describe("documentation links", () => {
  for (const document of documents) {
    it(`${document} links only inside the repository, to files and headings that exist`, () => {
      const text = readFileSync(join(root, document), "utf8");
      const problems: string[] = [];
      for (const link of linksOf(text)) {
        if (/^(https?:|mailto:)/.test(link)) continue;
        const [path = "", anchor] = link.split("#");
        const target = path === "" ? join(root, document) : resolve(root, dirname(document), path);
        const inside = relative(root, target);
        if (inside.startsWith("..")) {
          problems.push(`${link} points outside the repository`);
          continue;
        }
        if (!existsSync(target)) {
          problems.push(`${link}: no such file`);
          continue;
        }
        if (anchor && target.endsWith(".md") && !anchorsOf(readFileSync(target, "utf8")).has(anchor)) {
          problems.push(`${link}: no heading with that anchor`);
        }
      }
      expect(problems).toEqual([]);
    });
  }

  it("the npm package ships docs/protocols.md and README.md", () => {
    const output = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
      cwd: root,
      encoding: "utf8",
    });
    const [pack] = JSON.parse(output) as [{ files: { path: string }[] }];
    const paths = pack.files.map((file) => file.path);
    expect(paths).toContain("docs/protocols.md");
    expect(paths).toContain("README.md");
  });
});
