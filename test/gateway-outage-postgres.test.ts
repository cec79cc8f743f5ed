/** The gateway when its PostgreSQL dies mid-run (pg_ctl stop -m immediate) and comes back (issue 4 item 6). */
import { describeGatewayOutage, ownPostgres } from "./support/multi-outage.js";

describeGatewayOutage(ownPostgres);
