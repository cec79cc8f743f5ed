import { cpus, loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { runAdmissionBench, type AdmissionBenchResult } from "./admission.js";
import { runAgentBench, type AgentBenchResult } from "./agent.js";
import { runFleetBench, type FleetBenchResult } from "./fleet.js";
import { runGatewayBench, type GatewayBenchResult } from "./gateway.js";
import { parseArgs, type Part } from "./lib/args.js";
import { secondsSince } from "./lib/measure.js";
import { log, printTargets, type TargetCheck } from "./lib/report.js";
import { runStoreBench, type StoreBenchResult } from "./stores.js";

/**
 * `npm run bench [-- --quick] [-- --only stores|admission|gateway|agent|fleet] [-- --backends memory,sqlite,redis,postgres]`:
 * runs the benchmarks and prints ONE JSON document on stdout; progress and tables go to stderr.
 */
interface BenchDocument {
  startedAt: string;
  seconds: number;
  mode: "quick" | "full";
  machine: {
    node: string;
    platform: string;
    cpus: number;
    cpuModel: string;
    loadAverageAtStart: number[];
    loadAverageAtEnd: number[];
  };
  stores?: StoreBenchResult;
  admission?: AdmissionBenchResult;
  gateway?: GatewayBenchResult;
  agent?: AgentBenchResult;
  fleet?: FleetBenchResult;
  targets: TargetCheck[];
}

const args = parseArgs(process.argv.slice(2));
const wanted = (part: Part): boolean => args.only === undefined || args.only === part;
const started = performance.now();
const document: BenchDocument = {
  startedAt: new Date().toISOString(),
  seconds: 0,
  mode: args.quick ? "quick" : "full",
  machine: {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    loadAverageAtStart: loadavg().map((n) => Math.round(n * 100) / 100),
    loadAverageAtEnd: [],
  },
  targets: [],
};
log(
  `bench: ${document.mode} run on ${document.machine.cpus} CPUs, load average ${document.machine.loadAverageAtStart.join(" ")}`,
);

if (wanted("stores")) document.stores = await runStoreBench(args);
if (wanted("admission")) document.admission = await runAdmissionBench(args);
if (wanted("gateway")) document.gateway = await runGatewayBench(args);
if (wanted("agent")) document.agent = await runAgentBench(args);
if (wanted("fleet")) document.fleet = await runFleetBench(args);

document.targets = [
  ...(document.stores?.targets ?? []),
  ...(document.admission?.targets ?? []),
  ...(document.gateway?.targets ?? []),
  ...(document.agent?.targets ?? []),
  ...(document.fleet?.targets ?? []),
];
document.seconds = secondsSince(started);
document.machine.loadAverageAtEnd = loadavg().map((n) => Math.round(n * 100) / 100);
log(`\nbench: done in ${document.seconds} s`);
if (!args.only) printTargets(document.targets);
process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
// Pools and clients of closed stores may hold the loop for a moment; the document is out, so leave now.
process.exit(0);
