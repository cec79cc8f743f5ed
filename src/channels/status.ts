import type { ChannelHealth, GatewayLogger } from "../core/context.js";

/**
 * One adapter's health as /healthz shows it, logged when it changes: an error when the channel becomes degraded (with
 * the reason), an info line when it recovers. Reasons are fixed phrases chosen by the adapter, never platform error text.
 */
export class ChannelStatus {
  private current: ChannelHealth = { status: "ok" };

  constructor(
    private readonly channelType: string,
    private readonly logger: () => GatewayLogger,
  ) {}

  get(): ChannelHealth {
    return { ...this.current };
  }

  degraded(reason: string): void {
    if (this.current.status === "degraded" && this.current.reason === reason) return;
    this.current = { status: "degraded", reason };
    this.logger().error("channel degraded", { channelType: this.channelType, reason });
  }

  ok(): void {
    if (this.current.status === "ok") return;
    this.current = { status: "ok" };
    this.logger().info("channel recovered", { channelType: this.channelType });
  }
}
