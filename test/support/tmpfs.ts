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

  /** Like mount(), but under CI=true a tmpfs that cannot be mounted fails the test run instead of skipping. */
  static mountOrSkip(size: string, purpose: string): TinyTmpfs | null {
    const fs = TinyTmpfs.mount(size);
    if (fs === null) {
      if (process.env.CI === "true")
        throw new Error(`cannot mount a tmpfs here (not root?) and CI=true: ${purpose} cannot run`);
      console.warn(`\n*** cannot mount a tmpfs here (not root?): SKIPPING ${purpose} ***\n`);
    }
    return fs;
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
