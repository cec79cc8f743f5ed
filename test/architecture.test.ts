/**
 * The import arrows point one way (issue 13 item 4): protocols <- pairing/stores/auth <- core <- gateway, channels
 * <- cli. Read from the real import graph of src/ (madge, type-only imports included), so a new file that imports
 * upwards fails here, and so does any import cycle.
 */
import { fileURLToPath } from "node:url";
import madge from "madge";
import { describe, expect, it } from "vitest";

const SRC = fileURLToPath(new URL("../src/", import.meta.url));
const graph = await madge(SRC, {
  fileExtensions: ["ts"],
  tsConfig: fileURLToPath(new URL("../tsconfig.json", import.meta.url)),
  detectiveOptions: { ts: { skipTypeImports: false } },
});
const imports = graph.obj();

/** Every import from a file under `from` into a file under `to` ("file -> imported file"). */
function crossing(from: string, to: string): string[] {
  return Object.entries(imports).flatMap(([file, deps]) =>
    file.startsWith(from) ? deps.filter((dep) => dep.startsWith(to)).map((dep) => `${file} -> ${dep}`) : [],
  );
}

describe("the import graph of src/", () => {
  it("reads the whole tree", () => {
    expect(Object.keys(imports).length).toBeGreaterThan(100);
    expect(Object.keys(imports)).toContain("core/context.ts");
  });

  it("has no import cycle", () => {
    expect(graph.circular()).toEqual([]);
  });

  it.each([
    ["channels/", "gateway/"],
    ["channels/", "cli/"],
    ["core/", "gateway/"],
    ["core/", "channels/"],
    ["core/", "cli/"],
    ["gateway/", "channels/"],
    ["gateway/", "cli/"],
    ["stores/", "gateway/"],
    ["stores/", "core/"],
    ["protocols/", "stores/"],
  ])("nothing in src/%s imports src/%s", (from, to) => {
    expect(crossing(from, to)).toEqual([]);
  });

  it("only the gateway's barrel reaches the composition (src/gatehouse.ts), and no channel or core file does", () => {
    expect(crossing("gateway/", "gatehouse.ts")).toEqual(["gateway/index.ts -> gatehouse.ts"]);
    expect([...crossing("channels/", "gatehouse.ts"), ...crossing("core/", "gatehouse.ts")]).toEqual([]);
  });
});
