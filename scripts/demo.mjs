// `pnpm demo`: the worker's main job on the embedded default, against a local sandbox.
//
// Starts @flex/sandbox with a seeded mix of intents (cancelable holds, already canceled, succeeded,
// processing) and the `flaky` fault profile, adds IDs Flex does not know and a garbage line, runs
// `flex-worker cancel --file` on a fresh SQLite store, and prints its report.
import { spawn } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))
const apiKey = "fsk_test_demo_key"

const sandbox = spawn(
  process.execPath,
  [
    Path.join(root, "packages/sandbox/dist/bin.js"),
    "--port",
    "0",
    "--seed",
    "42",
    "--intents",
    "40",
    "--faults",
    "flaky"
  ],
  { stdio: ["ignore", "pipe", "inherit"] }
)
const url = await new Promise((resolve, reject) => {
  let out = ""
  sandbox.stdout.setEncoding("utf8").on("data", (chunk) => {
    out += chunk
    const match = /^listening on (http:\/\/\S+)/m.exec(out)
    if (match) resolve(match[1])
  })
  sandbox.on("exit", (code) => reject(new Error(`the sandbox exited with ${code}`)))
})
const stop = () => sandbox.kill("SIGTERM")
process.on("exit", stop)

// The seeded intents, read the way a person would: through the admin API, which has no faults.
const response = await fetch(`${url}/_sandbox/payment_intents`, { headers: { authorization: `Bearer ${apiKey}` } })
const { payment_intents: intents } = await response.json()
const byStatus = {}
for (const pi of intents) byStatus[pi.status] = (byStatus[pi.status] ?? 0) + 1

const work = mkdtempSync(Path.join(tmpdir(), "flex-demo-"))
const file = Path.join(work, "cancel.csv")
const rows = intents.map((pi) => `${pi.payment_intent_id},order ${pi.metadata?.order_id ?? "?"} canceled`)
rows.push("fpi_01J9ZZZZZZZZZZZZZZZZZZZZZZ,unknown to Flex", "fpi_01J9YYYYYYYYYYYYYYYYYYYYYY,unknown to Flex")
rows.push("this-is-not-an-id,typo", rows[0])
writeFileSync(file, `payment_intent_id,reason\n${rows.join("\n")}\n`)

console.log(`Sandbox at ${url} with ${intents.length} intents: ${JSON.stringify(byStatus)}; faults: flaky`)
console.log(`Cancelling ${rows.length} lines from ${file} (2 unknown IDs, 1 bad line, 1 duplicate)\n`)

const worker = spawn(
  process.execPath,
  [
    Path.join(root, "apps/worker/dist/bin.js"),
    "cancel",
    "--file",
    file,
    "--store",
    Path.join(work, "worker.sqlite"),
    "--rate",
    "25"
  ],
  {
    stdio: "inherit",
    env: {
      ...process.env,
      FLEX_API_KEY: apiKey,
      FLEX_BASE_URL: url,
      // Short backoffs so the demo's processing intents settle in seconds rather than a minute.
      FLEX_WORKER_BACKOFF_BASE: process.env.FLEX_WORKER_BACKOFF_BASE ?? "200 millis",
      FLEX_WORKER_BACKOFF_MAX: process.env.FLEX_WORKER_BACKOFF_MAX ?? "2 seconds"
    }
  }
)
const code = await new Promise((resolve) => worker.on("exit", (c) => resolve(c ?? 1)))
console.log(
  `\nThe store is ${Path.join(work, "worker.sqlite")}: \`pnpm flex-worker report --store <it>\` prints this again.`
)
// 3: every request reached an outcome and some need a person (the unknown IDs, the bad line), as planned.
if (code === 3) console.log("flex-worker exited 3: done, with requests that need attention (listed above).")
stop()
process.exit(code === 3 ? 0 : code)
