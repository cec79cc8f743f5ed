export { echoAgent } from "./echo.js";
export { httpAgent, type HttpAgentOptions } from "./http.js";
