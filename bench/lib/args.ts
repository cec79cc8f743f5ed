import { BACKENDS, type BackendName } from "./backends.js";

export const PARTS = ["stores", "admission", "gateway", "agent", "fleet"] as const;
export type Part = (typeof PARTS)[number];

export interface BenchArgs {
  quick: boolean;
  only?: Part;
  backends: readonly BackendName[];
}

/** `--quick`, `--only stores|admission|gateway|agent|fleet`, `--backends memory,sqlite,…`; anything else is a clear error. */
export function parseArgs(argv: readonly string[]): BenchArgs {
  const args: BenchArgs = { quick: false, backends: BACKENDS };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const [flag, inline] = arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg, undefined];
    const value = (): string => {
      const next = inline ?? argv[++i];
      if (next === undefined || next === "") throw new TypeError(`${flag} needs a value`);
      return next;
    };
    switch (flag) {
      case "--quick":
        args.quick = true;
        break;
      case "--only": {
        const part = value();
        if (!(PARTS as readonly string[]).includes(part))
          throw new TypeError(`--only must be one of ${PARTS.join(", ")} (got "${part}")`);
        args.only = part as Part;
        break;
      }
      case "--backends": {
        const names = value()
          .split(",")
          .map((name) => name.trim());
        const unknown = names.filter((name) => !(BACKENDS as readonly string[]).includes(name));
        if (unknown.length > 0)
          throw new TypeError(`--backends: unknown ${unknown.join(", ")}; known: ${BACKENDS.join(", ")}`);
        args.backends = names as BackendName[];
        break;
      }
      default:
        throw new TypeError(
          `unknown argument "${arg}"; usage: bench [--quick] [--only ${PARTS.join("|")}] [--backends ${BACKENDS.join(",")}]`,
        );
    }
  }
  return args;
}
