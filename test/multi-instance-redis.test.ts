/** Two `gatehouse start` processes sharing one Redis (issue 4 item 5). */
import { sharedRedis } from "./support/multi-gateway.js";
import { describeMultiInstance } from "./support/multi-instance.js";

const backend = sharedRedis();
describeMultiInstance(backend, await backend.available());
