/**
 * The CLI's start-up, side by side in one run with its floor, `node -e 'import("effect")'`: how long
 * `flex-worker --help` takes, and one `flex-worker cancel` of one intent against a local sandbox (a fresh
 * store each time), next to the cancel's own API call made directly. Each figure is the median of
 * `rounds` runs, the three kinds interleaved so that a busy moment of the machine hits them alike.
 * Goals (BENCHMARKS.md): `--help` ≤ 1.5 × the floor; a cancel ≤ 2 × the floor + the API call.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as Path from "node:path"
import { stop } from "./child.js"
import { createIntents, startSandbox, workerBin, workerNodeFlags } from "./worker.js"

export interface StartupFigures {
  readonly rounds: number
  readonly floor_ms: number
  readonly help_ms: number
  readonly cancel_ms: number
  readonly api_call_ms: number
}

const median = (xs: ReadonlyArray<number>) => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

/** Wall time of `node ARGS…` to its exit, ms; a non-zero exit fails the case. */
const timed = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  new Promise<number>((resolve, reject) => {
    const started = performance.now()
    const child = spawn(process.execPath, args, {
      env: { PATH: process.env.PATH, ...env },
      stdio: ["ignore", "ignore", "pipe"]
    })
    let stderr = ""
    child.stderr.on("data", (d) => {
      stderr += d
    })
    child.on("close", (code) => {
      const ms = performance.now() - started
      code === 0 ? resolve(ms) : reject(new Error(`${args.join(" ")} exited ${code}: ${stderr.slice(0, 300)}`))
    })
  })

export const runStartupBench = async (rounds: number): Promise<StartupFigures> => {
  const sandbox = await startSandbox()
  const work = mkdtempSync(Path.join(tmpdir(), "flex-bench-startup-"))
  try {
    const ids = await createIntents(sandbox, rounds + 1)
    const env = { FLEX_API_KEY: "fsk_test_bench", FLEX_BASE_URL: sandbox.url.toString().replace(/\/$/, "") }
    const floor: Array<number> = []
    const help: Array<number> = []
    const cancel: Array<number> = []
    const api: Array<number> = []
    // One of each first, not counted: the file system's caches warm, as they are for an operator.
    await timed(["-e", 'import("effect")'])
    await timed([...workerNodeFlags, workerBin, "--help"])
    for (let i = 0; i < rounds; i++) {
      floor.push(await timed(["-e", 'import("effect")']))
      help.push(await timed([...workerNodeFlags, workerBin, "--help"]))
      const store = Path.join(work, `s${i}`, "w.sqlite")
      cancel.push(
        await timed([...workerNodeFlags, workerBin, "cancel", ids[i]!, "--store", store], {
          ...env,
          FLEX_WORKER_LOG_LEVEL: "error"
        })
      )
    }
    // The API call itself: a cancel of an intent, answered by the same sandbox, without the worker.
    for (let i = 0; i < 5; i++) {
      const [fresh] = await createIntents(sandbox, 1)
      const started = performance.now()
      const res = await fetch(new URL(`/v1/payment_intents/${fresh}/cancel`, sandbox.url), {
        method: "POST",
        headers: { authorization: "Bearer fsk_test_bench", "content-type": "application/json" },
        body: "{}"
      })
      await res.text()
      api.push(performance.now() - started)
    }
    return {
      rounds,
      floor_ms: median(floor),
      help_ms: median(help),
      cancel_ms: median(cancel),
      api_call_ms: median(api)
    }
  } finally {
    rmSync(work, { recursive: true, force: true })
    await stop(sandbox.child)
  }
}
