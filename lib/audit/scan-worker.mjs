// A worker thread of a parallel verification: scans one range of the chain (scan-range.ts) and
// posts the result. An .mjs entry, so the TypeScript it runs loads the same way under tsx and vitest.
import { parentPort, workerData } from "node:worker_threads";
import { tsImport } from "tsx/esm/api";

const { scanRange } = await tsImport("./scan-range.ts", import.meta.url);
parentPort.postMessage(await scanRange(workerData));
