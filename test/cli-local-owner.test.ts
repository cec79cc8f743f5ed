/**
 * The local owner design through the real binary: `gatehouse start` with `auth.localSocket: true` behind a reverse proxy
 * on the same host (nginx's default proxy_pass: loopback, Host rewritten, no forwarding headers). Remote clients through
 * the proxy are nobody; the Unix socket in the data dir (mode 0600) is the owner; another user cannot open it; the start
 * log and `doctor` say what is trusted and why.
 */
import { execFile } from "node:child_process";
import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliWorkspace, runGatehouse, startGatehouse, type CliWorkspace } from "./cli-helpers.js";
import { jsonRequest, startSameHostProxy, type SameHostProxy } from "./support/reverse-proxy.js";

let ws: CliWorkspace;
let gatehouse: Awaited<ReturnType<typeof startGatehouse>>;
let proxy: SameHostProxy;
let config: string;
let socketPath: string;

beforeAll(async () => {
  ws = cliWorkspace();
  config = join(ws.dataDir, "gatehouse.yaml");
  writeFileSync(config, "auth:\n  localSocket: true\n");
  socketPath = join(ws.dataDir, "gatehouse.sock");
  gatehouse = await startGatehouse([...ws.args, "--config", config, "--port", "0"]);
  proxy = await startSameHostProxy(gatehouse.url);
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  await gatehouse?.stop();
  ws?.cleanup();
});

describe("local owner: the Unix socket, never loopback TCP", () => {
  it("the start log says what is trusted and why", () => {
    const out = gatehouse.output();
    expect(out).toContain(`local owner: whoever can open the Unix socket ${socketPath} (mode 0600`);
    expect(out).toContain("a loopback TCP connection is no credential");
  });

  it("a remote client through a same-host reverse proxy is not the owner", async () => {
    expect((await jsonRequest({ base: proxy.url }, "GET", "/api/pairing/pending")).status).toBe(401);
    expect(
      (await jsonRequest({ base: proxy.url }, "POST", "/api/pairing/invites", { body: { channelType: "telegram" } }))
        .status,
    ).toBe(401);
    // With the first-start token it works through the proxy as anywhere: the token is the credential.
    const withToken = await jsonRequest({ base: proxy.url }, "GET", "/api/pairing/pending", {
      headers: { authorization: `Bearer ${gatehouse.token}` },
    });
    expect(withToken.status).toBe(200);
  });

  it("the socket in the data dir (mode 0600) is the local owner", async () => {
    expect(statSync(socketPath).mode & 0o777).toBe(0o600);
    expect((await jsonRequest({ socketPath }, "GET", "/api/pairing/pending")).status).toBe(200);
    const invite = await jsonRequest({ socketPath }, "POST", "/api/pairing/invites", {
      body: { channelType: "telegram" },
    });
    expect(invite.status).toBe(201);
    const listed = await runGatehouse(["pairing", "list", "--json", ...ws.args, "--config", config]);
    expect(JSON.parse(listed.stdout).pending.some((p: { kind: string }) => p.kind === "invite")).toBe(true);
  });

  it("another user on the machine cannot open the socket", async () => {
    if (process.getuid?.() !== 0)
      return void expect(process.env.CI, "CI runs as root to test other users").not.toBe("true");
    const script = `require("node:net").connect(${JSON.stringify(socketPath)}).on("connect", () => { console.log("connected"); process.exit(0); }).on("error", (e) => { console.log(e.code); process.exit(0); });`;
    const asNobody = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ["-e", script], { uid: 65534, gid: 65534, timeout: 10_000 }, (error, stdout) =>
        error ? reject(error) : resolve(stdout.trim()),
      ),
    );
    // The data dir is 0700 and the socket 0600: either refusal is the file mode doing its job.
    expect(["EACCES", "EPERM"]).toContain(asNobody);
  });

  it("doctor names the same trust", async () => {
    const result = await runGatehouse(["doctor", ...ws.args, "--config", config]);
    expect(result.stdout).toMatch(
      /auth\s+trusted: API tokens .*local owner: whoever can open the Unix socket .*a loopback TCP connection is no credential/,
    );
  });
});
