import { execFile } from "node:child_process";
import { chownSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The newest PostgreSQL server binaries on this machine (Debian layout), or $PG_BIN. */
function binDir(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const root = "/usr/lib/postgresql";
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) throw new Error(`no PostgreSQL server binaries under ${root}; set PG_BIN`);
  return join(root, versions[0]!, "bin");
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/**
 * A throwaway PostgreSQL cluster on a spare port, owned by the test that started it, so it can be stopped, frozen and
 * started again. As root the server runs as the `postgres` OS user (PostgreSQL refuses to run as root).
 */
export class TempPostgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly bin: string,
    private readonly asUser: string[],
  ) {}

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private get data(): string {
    return join(this.dir, "data");
  }

  static async start(): Promise<TempPostgres> {
    const bin = binDir();
    const dir = mkdtempSync(join(tmpdir(), "gh-pg-"));
    let asUser: string[] = [];
    if (process.getuid?.() === 0) {
      const { stdout } = await run("id", ["-u", "postgres"]);
      const { stdout: gid } = await run("id", ["-g", "postgres"]);
      chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
      asUser = ["runuser", "-u", "postgres", "--"];
    }
    const server = new TempPostgres(dir, await freePort(), bin, asUser);
    await server.exec("initdb", ["-D", server.data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
    await server.startAgain();
    return server;
  }

  async startAgain(): Promise<void> {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
    await this.exec("pg_ctl", ["-D", this.data, "-o", options, "-l", join(this.dir, "log"), "-w", "start"]);
  }

  /** Fast shutdown: open connections are terminated, new ones refused. "immediate": the server quits without a clean shutdown (like a crash). */
  async stop(mode: "fast" | "immediate" = "fast"): Promise<void> {
    await this.exec("pg_ctl", ["-D", this.data, "-m", mode, "-w", "stop"]);
  }

  /** Every server process stops answering (SIGSTOP) while its sockets stay open: a hung server. */
  async freeze(): Promise<void> {
    for (const pid of await this.pids()) process.kill(pid, "SIGSTOP");
  }

  async thaw(): Promise<void> {
    for (const pid of await this.pids()) process.kill(pid, "SIGCONT");
  }

  async destroy(): Promise<void> {
    await this.thaw().catch(() => undefined);
    await this.exec("pg_ctl", ["-D", this.data, "-m", "immediate", "-w", "stop"]).catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The postmaster (from its pid file) and its children. */
  private async pids(): Promise<number[]> {
    const postmaster = Number(readFileSync(join(this.data, "postmaster.pid"), "utf8").split("\n")[0]);
    const { stdout } = await run("ps", ["-o", "pid=", "--ppid", String(postmaster)]);
    return [
      postmaster,
      ...stdout
        .split("\n")
        .map((line) => Number(line.trim()))
        .filter((pid) => pid > 0),
    ];
  }

  private async exec(tool: string, args: string[]): Promise<void> {
    const command = [...this.asUser, join(this.bin, tool), ...args];
    await run(command[0]!, command.slice(1), { timeout: 60_000 });
  }
}
