/**
 * Secrets: the demo path and the worker's failure paths run with a canary API key, at the most verbose
 * log level; no stdout, stderr, log file, store file (SQLite pages, WAL), outcome row or error contains
 * it, nor its random part alone. (Every other chaos scenario runs with the same canary and scans its own
 * outputs and store: see support/scenarios.ts.)
 */
import { execFileSync } from "node:child_process"
import { readdirSync, readFileSync, writeFileSync } from "node:fs"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import * as Path from "node:path"
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Sandbox } from "@flex/sandbox"
import { Effect } from "effect"
import * as Cli from "../support/cli.js"
import * as Invariants from "../support/invariants.js"
import * as Process from "../support/process.js"
import {
  CANARY_KEY,
  canarySecret,
  isJson,
  outputsOf,
  type ProcessRun,
  secretLeaks,
  spawnWorker,
  summarize,
  workDir,
  workerEnv
} from "../support/scenario.js"

const root = Process.root

beforeAll(() => {
  Cli.ensureBuilt()
  // The demo and the `flex-sandbox` CLI run from the sandbox's build.
  execFileSync("npx", ["tsc", "-b", "packages/sandbox/tsconfig.src.json"], { cwd: root, stdio: "inherit" })
}, 180_000)

const runNode = (args: ReadonlyArray<string>, env: Record<string, string>, timeoutMs: number) =>
  Process.run(args, { env, cwd: root, timeoutMs })

/** A careless proxy: answers every request with the Authorization header echoed in the body and headers. */
const echoingProxy = (status: number) =>
  Effect.acquireRelease(
    Effect.async<Http.Server>((resume) => {
      const server = Http.createServer((req, res) => {
        const auth = String(req.headers.authorization ?? "")
        const body = JSON.stringify({ error: { code: "proxy_error", message: `upstream refused ${auth}` }, echo: auth })
        res.writeHead(status, { "content-type": "application/json", "x-echo-authorization": auth })
        res.end(body)
      })
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
    }),
    (server) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map((server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`))

const verbose = { FLEX_WORKER_LOG_LEVEL: "all" }

describe("chaos: secrets", () => {
  it.live(
    "pnpm demo's path, as it is (its key is the canary): no output and no file of its store contains the key",
    () =>
      Effect.gen(function* () {
        const t0 = Date.now()
        const demoKey = "fsk_test_demo_key"
        const demo = yield* runNode(["scripts/demo.mjs"], verbose, 180_000)
        assert.strictEqual(demo.code, 0, demo.stderr.slice(-2000))
        const storePath = /The store is (\S+worker\.sqlite)/.exec(demo.stdout)?.[1]
        assert.isDefined(storePath, demo.stdout.slice(-500))
        const texts = [
          { label: "demo stdout", text: demo.stdout },
          { label: "demo stderr", text: demo.stderr }
        ]
        const leaks = texts.filter((t) => t.text.includes(demoKey)).map((t) => t.label)
        // The demo's work directory (its CSV, the store, its WAL and lock file), scanned for the demo's key.
        for (const name of readdirSync(Path.dirname(storePath!))) {
          const bytes = readFileSync(Path.join(Path.dirname(storePath!), name))
          if (bytes.includes(Buffer.from(demoKey))) leaks.push(name)
        }
        console.log(
          `CHAOS ${leaks.length === 0 ? "PASS" : "FAIL"} | secrets: pnpm demo path (scripts/demo.mjs, log level all) | ${/Sandbox at \S+ with (\d+) intents/.exec(demo.stdout)?.[1] ?? "?"} intents | faults flaky | leaks ${leaks.length} | time ${((Date.now() - t0) / 1000).toFixed(1)} s`
        )
        assert.deepStrictEqual(leaks, [])
      }),
    240_000
  )

  it.scopedLive(
    "the demo path with the canary: flex-sandbox --api-key, cancel --file, report, sweep --dry-run, at log level all",
    () =>
      Effect.gen(function* () {
        const t0 = Date.now()
        const work = workDir("secrets-demo")
        // The sandbox CLI, as the demo starts it, pinned to the canary.
        const sandboxProc = Process.node(
          [
            Path.join(root, "packages/sandbox/dist/bin.js"),
            "--port",
            "0",
            "--seed",
            "42",
            "--intents",
            "40",
            "--faults",
            "flaky",
            "--api-key",
            CANARY_KEY
          ],
          { env: { ...process.env } }
        )
        yield* Effect.addFinalizer(() => Effect.sync(() => sandboxProc.child.kill("SIGTERM")))
        const url = yield* Effect.async<string>((resume) => {
          sandboxProc.child.stdout!.on("data", () => {
            const match = /^listening on (http:\/\/\S+)/m.exec(sandboxProc.output().stdout)
            if (match) resume(Effect.succeed(match[1]!))
          })
        })
        const list = yield* Effect.promise(() =>
          fetch(`${url}/_sandbox/payment_intents`, { headers: { authorization: `Bearer ${CANARY_KEY}` } }).then(
            (r) => r.json() as Promise<any>
          )
        )
        const ids: Array<string> = list.payment_intents.map((pi: { payment_intent_id: string }) => pi.payment_intent_id)
        const file = Path.join(work.dir, "cancel.csv")
        writeFileSync(
          file,
          `payment_intent_id,reason\n${ids.map((id) => `${id},demo`).join("\n")}\nfpi_01J9ZZZZZZZZZZZZZZZZZZZZZZ,unknown\nthis-is-not-an-id,typo\n`
        )
        const env = {
          FLEX_API_KEY: CANARY_KEY,
          FLEX_BASE_URL: url,
          FLEX_WORKER_BACKOFF_BASE: "50 millis",
          FLEX_WORKER_BACKOFF_MAX: "500 millis",
          ...verbose
        }
        const runs: Array<ProcessRun> = []
        const run = (args: ReadonlyArray<string>) =>
          Effect.tap(
            Effect.promise(() => spawnWorker(work, runs.length + 1, args, env).done),
            (r) => Effect.sync(() => runs.push(r))
          )
        const cancel = yield* run(["cancel", "--file", file, "--store", work.store, "--rate", "25"])
        // Done; the unknown ID and the typo need a person: exit 3.
        assert.strictEqual(cancel.code, 3, cancel.stderr.slice(-1000))
        assert.include(cancel.stdout, "Amount released")
        yield* run(["report", "--store", work.store])
        yield* run(["report", "--store", work.store, "--json"])
        yield* run(["sweep", "--older-than", "1s", "--dry-run", "--store", work.store])
        const leaks = secretLeaks(
          [
            ...outputsOf(runs),
            { label: "sandbox stdout", text: sandboxProc.output().stdout },
            { label: "sandbox stderr", text: sandboxProc.output().stderr }
          ],
          [work.dir]
        )
        console.log(
          `CHAOS ${leaks.length === 0 ? "PASS" : "FAIL"} | secrets: demo path with the canary (flex-sandbox + cancel/report/sweep, log level all) | requests ${ids.length + 1} | faults flaky | stderr ${runs.reduce((n, r) => n + r.stderr.length, 0)} bytes of logs scanned | leaks ${leaks.length} | time ${((Date.now() - t0) / 1000).toFixed(1)} s`
        )
        assert.deepStrictEqual(leaks, [])
      }),
    240_000
  )

  it.scopedLive(
    "failure paths with the canary: a refused key (exit 2, pending), a proxy echoing the key (GaveUp), nothing listening, a malformed key",
    () =>
      Effect.gen(function* () {
        const t0 = Date.now()
        const work = workDir("secrets-failures")
        const runs: Array<ProcessRun> = []
        const go = (args: ReadonlyArray<string>, env: Record<string, string>) =>
          Effect.tap(
            Effect.promise(() => spawnWorker(work, runs.length + 1, args, env).done),
            (r) => Effect.sync(() => runs.push(r))
          )
        const fast = { FLEX_WORKER_MAX_ATTEMPTS: "2", FLEX_WORKER_MAX_READS: "2", FLEX_TIMEOUT: "1", ...verbose }

        // 1. The sandbox accepts another key: the batch stops at the first 401 (exit 2, one line), nothing recorded.
        const sandbox = yield* Sandbox.start({ seed: 91, apiKey: "fsk_test_the_right_one" })
        const intents = yield* sandbox.createIntents(
          Array.from({ length: 5 }, () => ({ status: "requires_capture" as const }))
        )
        const ids = intents.map((pi) => pi.payment_intent_id)
        const rejected = yield* go(["cancel", ...ids, "--store", work.store, "--json"], {
          ...workerEnv(sandbox),
          ...fast
        })
        assert.strictEqual(rejected.code, 2, rejected.stderr.slice(-500))
        assert.include(rejected.stderr, "5 requests are still pending")
        assert.deepStrictEqual(Invariants.readOutcomes(work.store), [])
        // The right key finishes them (the checker below holds this store to every invariant).
        const fixed = yield* go(["cancel", "--store", work.store, "--json"], {
          ...workerEnv(sandbox),
          ...fast,
          FLEX_API_KEY: sandbox.apiKey
        })
        assert.strictEqual(fixed.code, 0, fixed.stderr.slice(-500))
        assert.strictEqual(JSON.parse(fixed.stdout).outcomes.canceled, 5)

        // 2. A proxy that echoes the Authorization header into its 502 bodies and headers.
        const proxy = yield* echoingProxy(502)
        const echoStore = Path.join(work.dir, "echo", "w.sqlite")
        const echoed = yield* go(["cancel", ...ids, "--store", echoStore, "--json"], {
          ...workerEnv(sandbox),
          ...fast,
          FLEX_BASE_URL: proxy
        })
        assert.strictEqual(echoed.code, 3, echoed.stderr.slice(-500))
        const echoRows = Invariants.readOutcomes(echoStore)
        assert.deepStrictEqual([...new Set(echoRows.map((r) => r.outcome))], ["GaveUp"])
        // The reason is there (a person needs it), without the key.
        assert.isTrue(echoRows.every((r) => (r.reason ?? "").length > 0))

        // 2b. A proxy that echoes it into 401 bodies.
        const proxy401 = yield* echoingProxy(401)
        const echo401 = yield* go(["cancel", ...ids, "--store", Path.join(work.dir, "echo401", "w.sqlite"), "--json"], {
          ...workerEnv(sandbox),
          ...fast,
          FLEX_BASE_URL: proxy401
        })
        assert.strictEqual(echo401.code, 2, echo401.stderr.slice(-500))

        // 3. Nothing listening.
        const refused = yield* go(["cancel", ...ids, "--store", Path.join(work.dir, "refused", "w.sqlite"), "--json"], {
          ...workerEnv(sandbox),
          ...fast,
          FLEX_BASE_URL: "http://127.0.0.1:9"
        })
        // Every request gave up: done, but a person has to look (exit 3).
        assert.strictEqual(refused.code, 3, refused.stderr.slice(-500))

        // 4. A malformed key (a live-looking one) and a key with a newline: refused at start, never echoed.
        const malformed = yield* go(["cancel", ids[0]!, "--store", Path.join(work.dir, "bad", "w.sqlite")], {
          ...fast,
          FLEX_API_KEY: `sk_live_${canarySecret}`,
          FLEX_BASE_URL: sandbox.url
        })
        assert.strictEqual(malformed.code, 2)
        const newline = yield* go(["cancel", ids[0]!, "--store", Path.join(work.dir, "bad2", "w.sqlite")], {
          ...fast,
          FLEX_API_KEY: `${CANARY_KEY}\nx`,
          FLEX_BASE_URL: sandbox.url
        })
        assert.include([1, 2], newline.code)

        const leaks = secretLeaks(outputsOf(runs), [work.dir])
        const result = yield* Invariants.checkAll(sandbox, work.store, { requested: ids })
        summarize({
          scenario:
            "secrets: failure paths (refused key, echoing proxy 502/401, connection refused, malformed keys; log level all)",
          requests: ids.length * 4 + 2,
          kills: 0,
          faults: result.faults,
          result,
          seconds: (Date.now() - t0) / 1000,
          extra: `leaks ${leaks.length}${leaks.length > 0 ? ` (${leaks.join(", ")})` : ""}`,
          pass: leaks.length === 0 && result.violations.length === 0
        })
        assert.deepStrictEqual(leaks, [])
        assert.deepStrictEqual(result.violations, [])
      }),
    240_000
  )

  it.scopedLive(
    "with every log line on (log level all), `cancel --json` still prints exactly one JSON object on stdout",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox.start({ seed: 92, apiKey: CANARY_KEY, faults: "flaky" })
        const intents = yield* sandbox.createIntents(
          Array.from({ length: 30 }, () => ({ status: "requires_capture" as const }))
        )
        const work = workDir("secrets-json")
        const run = yield* Effect.promise(
          () =>
            spawnWorker(
              work,
              1,
              [
                "cancel",
                ...intents.map((pi) => pi.payment_intent_id),
                "--store",
                work.store,
                "--json",
                "--ok-if-attention"
              ],
              {
                ...workerEnv(sandbox),
                ...verbose
              }
            ).done
        )
        assert.strictEqual(run.code, 0, run.stderr.slice(-500))
        assert.isAbove(run.stderr.length, 0, "logs went to stderr")
        assert.isTrue(isJson(run.stdout), `stdout is not one JSON object: ${run.stdout.slice(0, 300)}`)
        assert.deepStrictEqual(secretLeaks(outputsOf([run]), [work.dir]), [])
      })
  )
})
