export { jsonLogger, silentLogger, type GatewayLogger } from "../core/logger.js";
