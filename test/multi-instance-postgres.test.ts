/** Two `gatehouse start` processes sharing one PostgreSQL database (issue 4 item 5). */
import { sharedPostgres } from "./support/multi-gateway.js";
import { describeMultiInstance } from "./support/multi-instance.js";

const backend = sharedPostgres();
describeMultiInstance(backend, await backend.available());
