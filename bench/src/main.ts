/**
 * `pnpm bench`: runs every benchmark in turn.
 */
import { runSandboxBench } from "./sandbox.js"

const sandbox = await runSandboxBench()
console.log(
  `sandbox: ${Math.round(sandbox.rps).toLocaleString("en-US")} req/s (the lower of GET and cancel; goal ≥ 5,000)`
)
