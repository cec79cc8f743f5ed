/** The gatehouse version (package.json), reported by `gatehouse --version` and in instance heartbeats. */
export const GATEHOUSE_VERSION = "0.1.0";
