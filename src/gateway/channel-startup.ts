import type { ChannelHealth, ChannelPlugin, GatewayContext, GatewayLogger } from "../core/context.js";

/** How long the gateway waits for a channel to connect before it starts without it (the channel keeps connecting). */
export const CHANNEL_CONNECT_GRACE_MS = 5_000;

type Phase =
  | { kind: "idle" }
  | { kind: "connecting"; since: number }
  | { kind: "running" }
  | { kind: "failed"; reason: string }
  | { kind: "stopped" };

/**
 * One channel's start as the gateway sees it. `start()` waits for the channel at most `graceMs`: a channel that fails
 * within it fails the gateway's start (a refused token is refused at once, as before); one still connecting past it is
 * logged ("channel still connecting", with the wait) and shown degraded in /healthz, and the gateway starts without
 * it, so a platform that does not answer never holds the gateway (its URL, first-start token, /healthz) back. When
 * the late start settles it is logged either way; stopped meanwhile, the channel is stopped again once it settles.
 */
export class ChannelStartup implements ChannelPlugin {
  readonly channelType: string;
  private phase: Phase = { kind: "idle" };

  constructor(
    readonly channel: ChannelPlugin,
    private readonly logger: () => GatewayLogger,
    private readonly graceMs: number = CHANNEL_CONNECT_GRACE_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.channelType = channel.channelType;
  }

  get httpRoutes(): ChannelPlugin["httpRoutes"] {
    return this.channel.httpRoutes;
  }

  async start(context: GatewayContext): Promise<void> {
    const since = this.now();
    this.phase = { kind: "connecting", since };
    const starting = this.channel.start(context);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), this.graceMs)));
    try {
      if ((await Promise.race([starting.then(() => "started" as const), late])) === "started") {
        if (this.phase.kind === "connecting") this.phase = { kind: "running" };
        return;
      }
    } catch (error) {
      this.phase = { kind: "failed", reason: "it failed to start" };
      throw error;
    } finally {
      clearTimeout(timer);
    }
    this.logger().warn("channel still connecting; the gateway starts without it and keeps trying", {
      channelType: this.channelType,
      waitedMs: this.graceMs,
    });
    starting.then(
      () => {
        if (this.phase.kind === "stopped") return void this.stopQuietly();
        this.phase = { kind: "running" };
        this.logger().info("channel connected", { channelType: this.channelType, afterMs: this.now() - since });
      },
      (error: unknown) => {
        if (this.phase.kind === "stopped") return;
        const reason = error instanceof Error ? error.name : "error";
        this.phase = { kind: "failed", reason: `it failed to start (${reason}); restart the gateway once fixed` };
        this.logger().error("channel failed to start", {
          channelType: this.channelType,
          afterMs: this.now() - since,
          error: reason,
        });
      },
    );
  }

  health(): ChannelHealth {
    switch (this.phase.kind) {
      case "connecting":
        return {
          status: "degraded",
          reason: `still connecting (for ${Math.round((this.now() - this.phase.since) / 1000)} s)`,
          ...this.inner(),
        };
      case "failed":
        return { status: "degraded", reason: this.phase.reason };
      default:
        return this.channel.health?.() ?? { status: "ok" };
    }
  }

  /** Stops a running or still connecting channel; one whose start failed has nothing running. */
  async stop(): Promise<void> {
    const live = this.phase.kind === "running" || this.phase.kind === "connecting";
    this.phase = { kind: "stopped" };
    if (live) await this.channel.stop();
  }

  /** While connecting, the channel's own reason (e.g. "getMe: no answer within 10 s; retrying") replaces the generic one. */
  private inner(): Partial<ChannelHealth> {
    const own = this.channel.health?.();
    return own?.status === "degraded" && own.reason ? { reason: own.reason } : {};
  }

  private stopQuietly(): void {
    this.channel
      .stop()
      .catch((error: unknown) =>
        this.logger().error("channel failed to stop", { channelType: this.channelType, error: String(error) }),
      );
  }
}
