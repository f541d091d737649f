// `pnpm --filter @flex/worker test:install` (and a step of `pnpm test:release`): flex-worker as an
// operator installs it, without the monorepo. Packs the bundle (scripts/pack.mjs), installs the tarball
// with plain npm into a temporary global prefix (`npm install -g --prefix DIR`), then runs the installed
// `flex-worker --help` and one cancel against a local sandbox. Needs the workspace packages built
// (`pnpm build`) for the bundle and the sandbox. Exits 0 and prints one line when both work.
import { execFileSync, spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const app = fileURLToPath(new URL("..", import.meta.url))
const root = Path.join(app, "../..")
const work = process.env.FLEX_INSTALL_TEST_DIR ?? Fs.mkdtempSync(Path.join(Os.tmpdir(), "flex-worker-install-"))
Fs.mkdirSync(work, { recursive: true })
const fail = (message) => {
  console.error(`install-test: ${message}`)
  process.exit(1)
}

const tarball = execFileSync("node", [Path.join(app, "scripts/pack.mjs")], { encoding: "utf8" })
  .trim()
  .split("\n")
  .pop()
const prefix = Path.join(work, "global")
const started = performance.now()
execFileSync("npm", ["install", "-g", "--no-audit", "--no-fund", "--prefix", prefix, tarball], {
  cwd: work,
  stdio: ["ignore", "inherit", "inherit"]
})
console.log(`install-test: npm install -g took ${Math.round(performance.now() - started)} ms`)
const bin = Path.join(prefix, "bin", "flex-worker")
// Only PATH from this environment: nothing of the workspace leaks into the installed CLI's run.
const env = { PATH: process.env.PATH, HOME: work }
const help = execFileSync(bin, ["--help"], { env, encoding: "utf8" })
if (!help.startsWith("flex-worker: cancel Flex payment intents durably\n")) fail(`--help said:\n${help}`)

const sandbox = spawn(process.execPath, [Path.join(root, "packages/sandbox/dist/esm/bin.js"), "--intents", "0"], {
  stdio: ["ignore", "pipe", "inherit"]
})
try {
  const url = await new Promise((resolve, reject) => {
    let out = ""
    sandbox.stdout.on("data", (d) => {
      out += d
      const match = /listening on (http:\/\/\S+)/.exec(out)
      if (match) resolve(match[1])
    })
    sandbox.on("close", (code) => reject(new Error(`flex-sandbox exited ${code}`)))
  })
  const created = await fetch(`${url}/_sandbox/payment_intents`, {
    method: "POST",
    headers: { authorization: "Bearer fsk_test_install", "content-type": "application/json" },
    body: JSON.stringify({ payment_intents: [{ status: "requires_capture" }] })
  }).then((r) => r.json())
  const id = created.payment_intents[0].payment_intent_id
  const out = execFileSync(bin, ["cancel", id, "--store", Path.join(work, "worker.sqlite"), "--json"], {
    cwd: work,
    env: { ...env, FLEX_API_KEY: "fsk_test_install", FLEX_BASE_URL: url, FLEX_WORKER_LOG_LEVEL: "error" },
    encoding: "utf8"
  })
  const report = JSON.parse(out)
  if (report.outcomes.canceled !== 1) fail(`the cancel reported: ${out}`)
  console.log(`install-test: ${Path.basename(tarball)} installed with npm; --help, and ${id} canceled`)
} finally {
  sandbox.kill("SIGTERM")
  if (process.env.FLEX_INSTALL_TEST_DIR === undefined) Fs.rmSync(work, { recursive: true, force: true })
}
