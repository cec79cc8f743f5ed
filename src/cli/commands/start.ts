import { Command, InvalidArgumentError, Option } from "commander";
import { LOG_FORMATS, LOG_LEVELS } from "../../core/logger.js";
import { parsePort } from "../../config/load.js";
import { ensureWritableDir } from "../../pairing/data-dir.js";
import { addCommonOptions, cliConfig } from "../environment.js";
import type { Output } from "../output.js";
import type { StartOptions } from "./run-gateway.js";

function portOption(value: string): number {
  const port = parsePort(value);
  if (port === null) throw new InvalidArgumentError("must be an integer from 0 to 65535");
  return port;
}

/**
 * `gatehouse start`: runs the gateway on the configured store until SIGINT/SIGTERM. The gateway (fastify, ws, jose) is
 * loaded only here, so the other commands start quickly.
 */
export function startCommand(io: Output): Command {
  return addCommonOptions(new Command("start").description("run the gateway (HTTP API, WebSocket, console, channels)"))
    .option("--host <host>", "address to bind (default 127.0.0.1)")
    .option("--port <port>", "port to listen on, 0 for any free port (default 8787)", portOption)
    .addOption(
      new Option("--log-level <level>", "lines below this level are not logged (default info)").choices(LOG_LEVELS),
    )
    .addOption(
      new Option("--log-format <format>", "json lines, or pretty for a terminal (default json)").choices(LOG_FORMATS),
    )
    .action(async (options: StartOptions) => {
      // An unusable data directory is reported before the gateway's modules load, so the answer comes at once.
      ensureWritableDir(cliConfig(options, { host: options.host, port: options.port }).dataDir);
      const { runGateway } = await import("./run-gateway.js");
      await runGateway(options, io);
    });
}
