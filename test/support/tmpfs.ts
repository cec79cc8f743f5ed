/** A tiny tmpfs of the test's own (root only), to make a real full disk and a real read-only filesystem for SQLite. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export class TinyTmpfs {
  private constructor(readonly dir: string) {}

  /** Mounts a tmpfs of `size` (e.g. "2m"), or returns null when this process may not mount (not root, no CAP_SYS_ADMIN). */
  static mount(size: string): TinyTmpfs | null {
    const dir = mkdtempSync(join(tmpdir(), "gh-tmpfs-"));
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size},mode=0777`, "tmpfs", dir], { stdio: "pipe" });
      return new TinyTmpfs(dir);
    } catch {
      rmSync(dir, { recursive: true, force: true });
      return null;
    }
  }

  readOnly(): void {
    execFileSync("mount", ["-o", "remount,ro", this.dir], { stdio: "pipe" });
  }

  readWrite(): void {
    execFileSync("mount", ["-o", "remount,rw", this.dir], { stdio: "pipe" });
  }

  unmount(): void {
    try {
      execFileSync("umount", ["-l", this.dir], { stdio: "pipe" });
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
