import { z } from "zod";
import { approvalsConfigSchema } from "../core/approvals/policy.js";
import { agentSchema } from "../agents/schema.js";
import { ROLE_FORMAT } from "../auth/token.js";
import { channelsSchema } from "../channels/registry.js";
import { storeUrlProblem } from "../stores/registry.js";
import { idList, nonEmpty, port, unknownUserPolicy } from "./fields.js";

export const DEFAULT_DATA_DIR = "./.gatehouse";
export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_PORT = 8787;

const role = z
  .string()
  .regex(ROLE_FORMAT, "must be 1-32 lower-case letters, digits, '_' or '-', starting with a letter");

const httpSchema = z.strictObject({
  host: nonEmpty.default(DEFAULT_HOST),
  port: port.default(DEFAULT_PORT),
  /** Origins (scheme://host:port) allowed to open the WebSocket or call the API from a browser. */
  allowedOrigins: z.array(z.url({ protocol: /^https?$/ })).default([]),
});

const policySchema = z.strictObject({
  unknownUserPolicy: unknownUserPolicy.default("pair"),
  allowedUsers: idList,
  ownerUserIds: idList,
});

const jwtSchema = z
  .strictObject({
    issuer: nonEmpty,
    audience: z.union([nonEmpty, z.array(nonEmpty).min(1)]),
    jwksUrl: z.url({ protocol: /^https?$/ }).optional(),
    /** A PEM (SPKI) public key. */
    publicKey: nonEmpty.optional(),
    algorithms: z.array(nonEmpty).min(1),
    roleClaim: nonEmpty.optional(),
    userClaim: nonEmpty.optional(),
    defaultRole: role.optional(),
  })
  .refine((jwt) => (jwt.jwksUrl === undefined) !== (jwt.publicKey === undefined), {
    message: "set exactly one of jwksUrl or publicKey",
  });

const trustedProxySchema = z
  .strictObject({
    proxies: z.array(nonEmpty).min(1, "must list at least one proxy address"),
    userHeader: nonEmpty,
    roleHeader: nonEmpty.optional(),
    role: role.optional(),
  })
  .refine((proxy) => (proxy.roleHeader === undefined) !== (proxy.role === undefined), {
    message: "set exactly one of role or roleHeader",
  });

const authSchema = z.strictObject({
  /** API tokens kept in the store (on unless set to false). */
  token: z.boolean().default(true),
  jwt: jwtSchema.optional(),
  trustedProxy: trustedProxySchema.optional(),
  /**
   * The local owner door: the API and WebSocket also listen on the Unix socket <dataDir>/gatehouse.sock (mode 0600), and
   * whoever can open that file (the user running the gateway, and root) is the owner. A TCP connection is never trusted
   * for being loopback: a reverse proxy on the same host forwards every remote client over loopback.
   */
  localSocket: z.boolean().default(false),
  /** Deprecated: the old name of localSocket. Loopback TCP grants nothing any more; `true` opens the local socket instead. */
  loopback: z.boolean().default(false),
});

export const configSchema = z.strictObject({
  /** Store URL; default sqlite:<dataDir>/gatehouse.db. Any scheme a backend in the store registry answers to. */
  store: nonEmpty
    .superRefine((url, ctx) => {
      const problem = storeUrlProblem(url);
      if (problem !== null) ctx.addIssue({ code: "custom", message: problem });
    })
    .optional(),
  dataDir: nonEmpty.default(DEFAULT_DATA_DIR),
  http: httpSchema.prefault({}),
  policy: policySchema.prefault({}),
  agent: agentSchema.default({ type: "echo" }),
  /** Conversation memory of agents that use history, and how many messages may wait while the agent answers. */
  conversation: z
    .strictObject({
      maxTurns: z.number().int("must be an integer").positive("must be positive").optional(),
      maxChars: z.number().int("must be an integer").positive("must be positive").optional(),
      idleTtlMinutes: z.number().positive("must be positive").optional(),
      maxWaiting: z.number().int("must be an integer").min(0, "must be 0 or more").optional(),
    })
    .optional(),
  auth: authSchema.prefault({}),
  channels: channelsSchema.prefault({}),
  /** Agents' approval requests: timeouts and rules that decide at once (see README "Approvals for your agent's actions"). */
  approvals: approvalsConfigSchema.prefault({}),
  /**
   * Several instances on one store: `leaseSeconds` is the lease on each platform connection (Telegram long polling,
   * the Discord gateway) and on each instance's heartbeat: another instance takes over within it when the holder dies.
   */
  instances: z
    .strictObject({
      leaseSeconds: z.number().min(1, "must be at least 1").max(3600, "must be at most 3600").default(15),
    })
    .prefault({}),
  /**
   * Webchat devices. `deviceProof`: "required" admits only devices that prove a key; "optional" also lets legacy
   * name-only devices in. Unset: the store decides (a new store is set to "required" at its first start; see
   * src/gateway/README.md "Device keys").
   */
  webchat: z.strictObject({ deviceProof: z.enum(["required", "optional"]).optional() }).optional(),
});

export type ParsedConfig = z.infer<typeof configSchema>;
export type { AgentConfig } from "../agents/schema.js";
export type AuthConfig = ParsedConfig["auth"];
export type ChannelsConfig = ParsedConfig["channels"];

/** The validated configuration, with the store URL resolved. */
export interface GatehouseConfig extends Omit<ParsedConfig, "store"> {
  store: string;
  /** The config file that was read, or null when only defaults and environment were used. */
  source: string | null;
}
