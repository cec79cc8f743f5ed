/**
 * `gatehouse doctor` checks that the address `start` listens on can be bound (issue 18 item 4), and says why not:
 * in use, privileged, or not an address of this machine. Run through the CLI; each refusal exits 1.
 */
import { chmodSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { cliWorkspace, runGatehouse } from "./cli-helpers.js";
import { closedPort } from "./support/dead-endpoints.js";

const ws = cliWorkspace();
afterAll(() => ws.cleanup());

function doctor(env: Record<string, string>, options: { uid?: number; gid?: number } = {}) {
  return runGatehouse(["doctor", ...ws.args], { env, ...options });
}

describe("gatehouse doctor on the listen address", () => {
  it("says the port is free, and exits 0", async () => {
    const port = await closedPort();
    const result = await doctor({ GATEHOUSE_PORT: String(port) });
    expect(result.stdout).toMatch(new RegExp(`^OK\\s+port\\s+127\\.0\\.0\\.1:${port} is free$`, "m"));
    expect(result.code, result.stdout).toBe(0);
  });

  it("fails naming the port and host when another program listens there (EADDRINUSE)", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const result = await doctor({ GATEHOUSE_PORT: String(port) });
      expect(result.stdout).toMatch(
        new RegExp(`^FAIL\\s+port\\s+port ${port} on 127\\.0\\.0\\.1 is in use \\(EADDRINUSE\\)`, "m"),
      );
      expect(result.code).toBe(1);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });

  it("fails on a privileged port for an unprivileged user (EACCES)", async () => {
    // As root the check runs as nobody, who may not bind below 1024; the data dir must then be theirs to write.
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    chmodSync(ws.dataDir, 0o777);
    const result = await doctor({ GATEHOUSE_PORT: "80" }, asNobody);
    expect(result.stdout).toMatch(/^FAIL\s+port\s+port 80 on 127\.0\.0\.1 needs privileges \(EACCES\)/m);
    expect(result.code).toBe(1);
  });

  it("fails on a host that is not an address of this machine (EADDRNOTAVAIL)", async () => {
    // 192.0.2.1 is TEST-NET-1, reserved for documentation: no machine has it.
    const result = await doctor({ GATEHOUSE_HOST: "192.0.2.1", GATEHOUSE_PORT: "8787" });
    expect(result.stdout).toMatch(/^FAIL\s+port\s+192\.0\.2\.1 is not an address of this machine \(EADDRNOTAVAIL\)/m);
    expect(result.code).toBe(1);
  });
});
