import { accessSync, constants, mkdirSync, rmdirSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";

/**
 * A folder gatehouse must create or write (the data directory, the SQLite file's folder) cannot be used. The message
 * names the path and the reason in words; the CLI exits 2 on it (a configuration problem, not a refusal).
 */
export class DataDirError extends Error {
  override readonly name = "DataDirError";
  constructor(
    readonly path: string,
    readonly reason: string,
    what: string,
    options?: { cause?: unknown },
  ) {
    super(`${what} ${path} cannot be used: ${reason}`, options);
  }
}

/** Words for the errno codes a folder check can meet; the raw code is kept in brackets for searching. */
const REASONS: Record<string, string> = {
  EROFS: "it is on a read-only file system; remount it read-write or choose another folder",
  EACCES: "permission denied; give this user write access or choose another folder",
  EPERM: "operation not permitted; give this user write access or choose another folder",
  ENOTDIR: "a file is in the way where a folder should be",
  ENOENT: "folders cannot be created there (a missing parent, or a special file system such as /proc)",
  ENOSPC: "the disk is full",
  EDQUOT: "the disk quota is used up",
};

/**
 * Creates `dir` (mode 0700) with any missing parents and checks this process may write in it; throws one DataDirError
 * otherwise, at once. Parents are created one by one rather than with `mkdirSync(…, { recursive: true })`: on a special
 * file system (`/proc/nope`) Node's recursive mkdir retries forever at full CPU instead of failing.
 */
export function ensureWritableDir(dir: string, what = "data directory"): string {
  const path = resolve(dir);
  try {
    createFolder(path, []);
    accessSync(path, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw dataDirError(path, error, what);
  }
  return path;
}

/** The same check for `doctor`, which creates nothing: folders it had to make for the check are removed again. */
export function checkWritableDir(dir: string, what = "data directory"): string {
  const path = resolve(dir);
  const created: string[] = [];
  try {
    createFolder(path, created);
    accessSync(path, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw dataDirError(path, error, what);
  } finally {
    for (const folder of created.reverse()) rmdirSync(folder);
  }
  return path;
}

function dataDirError(path: string, error: unknown, what: string): DataDirError {
  const code = (error as NodeJS.ErrnoException).code ?? "";
  const reason = REASONS[code] ?? (error as Error).message;
  return new DataDirError(path, code && REASONS[code] ? `${reason} (${code})` : reason, what, { cause: error });
}

/** Throws a DataDirError when an existing file cannot be written (read-only file system or file mode). */
export function assertWritableFile(file: string, what: string): void {
  try {
    accessSync(file, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "";
    if (code === "ENOENT") return;
    const reason =
      code === "EACCES" || code === "EPERM"
        ? "the file is read-only for this user; give it write access"
        : REASONS[code];
    throw new DataDirError(file, `${reason ?? (error as Error).message}${code ? ` (${code})` : ""}`, what, {
      cause: error,
    });
  }
}

function createFolder(path: string, created: string[]): void {
  for (let attempt = 0; ; attempt++) {
    try {
      mkdirSync(path, { mode: 0o700 });
      created.push(path);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EEXIST") {
        if (!statSync(path).isDirectory()) throw Object.assign(new Error(`${path} is a file`), { code: "ENOTDIR" });
        return;
      }
      const parent = dirname(path);
      // A missing parent is created once; a second ENOENT means this file system will not hold the folder.
      if (code !== "ENOENT" || parent === path || attempt > 0) throw error;
      createFolder(parent, created);
    }
  }
}
