/** The gateway when its Redis dies mid-run and comes back (issue 4 item 6). */
import { describeGatewayOutage, ownRedis } from "./support/multi-outage.js";

describeGatewayOutage(ownRedis);
