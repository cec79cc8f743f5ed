import type { IncomingMessage } from "node:http";
import type { GatewayRequest, Principal } from "../protocols/types.js";
import type { GatewayContext } from "../core/context.js";
import type { ConnectParams } from "../core/schemas.js";
import { authenticateDetailed } from "./authenticate.js";
import { gatewayRequest } from "./request-view.js";

/** What a credential can end by: an API token deleted (on any instance), a console session signed out or expired. */
export interface CredentialEnd {
  tokenId?: string;
  consoleSession?: string;
}

/**
 * The credential a token (or console-ticket) socket said connect with. It is presented again before every request
 * and on heartbeats, so a deleted token, an expired JWT or an ended console session closes the socket; the console
 * accepts this same request object again while the session its ticket was redeemed for lives (the ticket is spent).
 */
export class SocketCredential {
  private constructor(
    private readonly ctx: GatewayContext,
    private readonly request: GatewayRequest,
    readonly principal: Principal,
    private readonly openedFrom: CredentialEnd,
  ) {}

  /** Authenticates a connect frame's credential; null when auth refuses it (or fails, or is too slow). */
  static async present(
    ctx: GatewayContext,
    upgrade: IncomingMessage,
    params: ConnectParams,
  ): Promise<SocketCredential | null> {
    const request = gatewayRequest({
      transport: "ws",
      method: "GET",
      url: upgrade.url ?? "/ws",
      headers: upgrade.headers,
      rawHeaders: upgrade.rawHeaders,
      remoteAddress: upgrade.socket.remoteAddress,
      socket: upgrade.socket,
      connectParams: { ...params },
    });
    const authenticated = await authenticateDetailed(ctx, request);
    if (!authenticated) return null;
    const { tokenId, consoleSession } = authenticated.metadata;
    return new SocketCredential(ctx, request, authenticated.principal, {
      ...(typeof tokenId === "string" ? { tokenId } : {}),
      ...(typeof consoleSession === "string" ? { consoleSession } : {}),
    });
  }

  /** Presents the credential again: still the same principal? A refusal, a throw or a slow backend all count as no. */
  async stillValid(): Promise<boolean> {
    const again = await authenticateDetailed(this.ctx, this.request);
    return (
      again !== null && again.principal.userId === this.principal.userId && again.principal.role === this.principal.role
    );
  }

  /** Whether this credential is the one that ended. */
  endedBy(ended: CredentialEnd): boolean {
    return (
      (ended.tokenId !== undefined && this.openedFrom.tokenId === ended.tokenId) ||
      (ended.consoleSession !== undefined && this.openedFrom.consoleSession === ended.consoleSession)
    );
  }
}
