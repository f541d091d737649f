import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as Path from "node:path"
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Sandbox } from "@flex/sandbox"
import { Effect } from "effect"
import * as Cli from "./support/cli.js"
import * as Pg from "./support/pg.js"
import * as Serve from "./support/serve.js"

beforeAll(() => Cli.ensureBuilt(), 120_000)

const dir = () => mkdtempSync(Path.join(tmpdir(), "flex-cli-"))
const fast = { FLEX_WORKER_BACKOFF_BASE: "20 millis", FLEX_WORKER_BACKOFF_MAX: "200 millis" }
const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

describe("flex-worker CLI", () => {
  it.scopedLive("cancel --json prints exactly one JSON report; report reads the same store", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 21 })
      const [a, b, c] = yield* sandbox.createIntents([
        { status: "requires_capture", amount: 2500, capture_method: "manual" },
        { status: "succeeded" },
        { status: "canceled" }
      ])
      const work = dir()
      const file = Path.join(work, "ids.csv")
      writeFileSync(
        file,
        `payment_intent_id,reason\n${a!.payment_intent_id},duplicate order\n\n${b!.payment_intent_id},\nnot-an-id,x\n${a!.payment_intent_id},again\n`
      )
      const env = { FLEX_API_KEY: sandbox.apiKey, FLEX_BASE_URL: sandbox.url, ...fast }
      const store = Path.join(work, "store", "w.sqlite")
      const result = yield* promise(() =>
        Cli.run(["cancel", c!.payment_intent_id, "--file", file, "--store", store, "--json"], env)
      )
      // Every request reached an outcome, but one needs a person and a line was rejected: exit 3.
      assert.strictEqual(result.code, 3, result.stderr)
      assert.strictEqual(
        result.stderr,
        "flex-worker: every request reached an outcome, but 1 request needs attention and 1 input line was rejected (see the report; --ok-if-attention exits 0)\n"
      )
      const report = JSON.parse(result.stdout)
      assert.deepStrictEqual(report.outcomes, {
        canceled: 1,
        already_canceled: 1,
        not_cancelable: 1,
        not_found: 0,
        rejected: 0,
        gave_up: 0
      })
      assert.strictEqual(report.total, 3)
      assert.strictEqual(report.amount_released, 2500)
      assert.strictEqual(report.api_calls, 1 + 2 + 2)
      assert.deepStrictEqual(report.invalid_lines, [{ line: 5, problem: report.invalid_lines[0].problem }])
      assert.include(report.invalid_lines[0].problem, "line 5")
      assert.deepStrictEqual(
        report.needs_attention.map((n: any) => [n.payment_intent_id, n.outcome]),
        [[b!.payment_intent_id, "not_cancelable"]]
      )
      const again = yield* promise(() => Cli.run(["report", "--store", store, "--json"], env))
      assert.strictEqual(again.code, 0, again.stderr)
      assert.deepStrictEqual(JSON.parse(again.stdout).outcomes, report.outcomes)
      assert.deepStrictEqual(report.duplicate_lines, [{ line: 6, payment_intent_id: a!.payment_intent_id }])
      const text = yield* promise(() => Cli.run(["report", "--store", store], env))
      assert.include(text.stdout, "Amount released: $25.00")
      const batchText = yield* promise(() =>
        Cli.run(["cancel", "--file", file, "--store", Path.join(work, "other.sqlite"), "--ok-if-attention"], env)
      )
      assert.include(
        batchText.stdout,
        `Duplicate lines collapsed: 1\n  line 6: ${a!.payment_intent_id} (already in this batch)\n`
      )
      // Scripts that only care about completion: 0 once every request has an outcome.
      const relaxed = yield* promise(() =>
        Cli.run(["cancel", c!.payment_intent_id, "--file", file, "--store", store, "--json", "--ok-if-attention"], env)
      )
      assert.strictEqual(relaxed.code, 0, relaxed.stderr)
      assert.strictEqual(relaxed.stderr, "")
    })
  )

  it.live("an unreachable API: gave_up, exit 3; with --ok-if-attention, 0", () =>
    Effect.gen(function* () {
      const store = Path.join(dir(), "w.sqlite")
      const env = {
        FLEX_API_KEY: "fsk_test_x",
        FLEX_BASE_URL: "http://127.0.0.1:9",
        FLEX_WORKER_MAX_ATTEMPTS: "1",
        FLEX_WORKER_MAX_READS: "1",
        ...fast
      }
      const result = yield* promise(() =>
        Cli.run(["cancel", "fpi_01J9M9S346Q3D25VT4F5V37E3S", "--store", store, "--json"], env)
      )
      assert.strictEqual(result.code, 3, result.stderr)
      assert.strictEqual(JSON.parse(result.stdout).outcomes.gave_up, 1)
      assert.match(result.stderr, /^flex-worker: every request reached an outcome, but 1 request needs attention \(/)
      const relaxed = yield* promise(() =>
        Cli.run(["cancel", "fpi_01J9M9S346Q3D25VT4F5V37E3S", "--store", store, "--ok-if-attention"], env)
      )
      assert.strictEqual(relaxed.code, 0, relaxed.stderr)
    })
  )

  it.scopedLive("with every log level on, --json prints one JSON object on stdout and logs JSON lines on stderr", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 25 })
      const [a] = yield* sandbox.createIntents([{ status: "requires_capture" }])
      const store = Path.join(dir(), "w.sqlite")
      const env = { FLEX_API_KEY: sandbox.apiKey, FLEX_BASE_URL: sandbox.url, FLEX_WORKER_LOG_LEVEL: "all", ...fast }
      const result = yield* promise(() => Cli.run(["cancel", a!.payment_intent_id, "--store", store, "--json"], env))
      assert.strictEqual(result.code, 0, result.stderr)
      // One line, one object: the pretty logger used to print debug lines here too.
      assert.strictEqual(result.stdout.trim().split("\n").length, 1, result.stdout.slice(0, 300))
      assert.strictEqual(JSON.parse(result.stdout).outcomes.canceled, 1)
      const lines = result.stderr.split("\n").filter((line) => line !== "")
      for (const line of lines) assert.isString(JSON.parse(line).logLevel, line)
      assert.isTrue(
        lines.some((line) => JSON.parse(line).logLevel === "DEBUG"),
        "debug logs went to stderr"
      )
    })
  )

  it.scopedLive("a process warning is a JSON log line on stderr, without the credentials in its text", () =>
    Effect.gen(function* () {
      const work = dir()
      // Preloaded into the worker: a warning like pg's during a reconnect, emitted on demand once it runs.
      const preload = Path.join(work, "warn.cjs")
      writeFileSync(
        preload,
        `process.on("SIGUSR2", () => process.emitWarning("client.query() on postgres://flex:PGSECRET@db/flex with " + process.env.FLEX_API_KEY + " and DBSECRET", "DeprecationWarning", "DEP_TEST"))`
      )
      const server = yield* Serve.start(["--store", Path.join(work, "w.sqlite")], {
        FLEX_API_KEY: "fsk_test_KEYSECRET",
        // Not used (--store is given), but its password is a secret all the same.
        FLEX_WORKER_DATABASE_URL: "postgres://flex:DBSECRET@db.internal/flex",
        FLEX_WORKER_LOG_LEVEL: "warning",
        NODE_OPTIONS: `--require ${preload}`
      })
      server.child.kill("SIGUSR2")
      for (let i = 0; i < 100 && !server.output().stderr.includes("DEP_TEST"); i++) yield* Effect.sleep("50 millis")
      server.child.kill("SIGTERM")
      const { stderr } = yield* promise(() => server.done)
      const lines = stderr.split("\n").filter((line) => line !== "" && !line.startsWith("flex-worker: "))
      for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), line)
      const warning = lines.map((line) => JSON.parse(line)).find((log) => log.annotations?.code === "DEP_TEST")
      assert.isDefined(warning, stderr)
      assert.strictEqual(warning.logLevel, "WARN")
      assert.strictEqual(warning.annotations.warning, "DeprecationWarning")
      assert.include(warning.message, "client.query()")
      assert.notInclude(stderr, "PGSECRET")
      assert.notInclude(stderr, "KEYSECRET")
      assert.notInclude(stderr, "DBSECRET")
    })
  )

  it.scopedLive("a second process on the same store is refused with a clear message", () =>
    Effect.gen(function* () {
      // The first worker's cancel hangs, so it provably holds the store (the lock is taken before any
      // call) until this test stops it, however slowly the second one starts on a busy machine.
      const sandbox = yield* Sandbox.start({ seed: 22, faults: { cancel: { hang_rate: 1 } } })
      const intents = yield* sandbox.createIntents([{ status: "requires_capture" as const }])
      const store = Path.join(dir(), "w.sqlite")
      const env = { FLEX_API_KEY: sandbox.apiKey, FLEX_BASE_URL: sandbox.url, FLEX_TIMEOUT: "120", ...fast }
      const first = Cli.start(["cancel", intents[0]!.payment_intent_id, "--store", store], env)
      for (let i = 0; i < 600 && (yield* sandbox.calls).length === 0; i++) yield* Effect.sleep("50 millis")
      assert.strictEqual((yield* sandbox.calls).length, 1, "the first worker is in its call")
      const second = yield* promise(() => Cli.run(["cancel", intents[0]!.payment_intent_id, "--store", store], env))
      assert.strictEqual(second.code, 2, second.stderr)
      assert.include(second.stderr, "Another flex-worker is already using the store")
      assert.notInclude(second.stderr, "    at ")
      first.child.kill("SIGTERM")
      const done = yield* promise(() => first.done)
      assert.strictEqual(done.code, 143, done.stderr)
    })
  )

  it.scopedLive("SIGTERM mid-batch: exits 143 promptly, and the next start finishes what was pending", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 24, faults: { default: { latency: { min_ms: 50, max_ms: 50 } } } })
      const intents = yield* sandbox.createIntents(
        Array.from({ length: 30 }, () => ({ status: "requires_capture" as const }))
      )
      const ids = intents.map((i) => i.payment_intent_id)
      const store = Path.join(dir(), "w.sqlite")
      const env = { FLEX_API_KEY: sandbox.apiKey, FLEX_BASE_URL: sandbox.url, ...fast }
      // 2 calls a second: the stop lands long before the 30th call, however slow the machine.
      const first = Cli.start(["cancel", ...ids, "--store", store, "--rate", "2", "--json"], env)
      for (let i = 0; i < 600 && (yield* sandbox.calls).length < 5; i++) yield* Effect.sleep("50 millis")
      first.child.kill("SIGTERM")
      const stopped = yield* promise(() => first.done)
      assert.strictEqual(stopped.code, 143, stopped.stderr)
      assert.include(stopped.stderr, "resume")
      const callsAtStop = (yield* sandbox.calls).length
      assert.isBelow(callsAtStop, 30, "it stopped before the end")
      // It prints the counts so far: one JSON object, marked interrupted.
      const partial = JSON.parse(stopped.stdout)
      assert.isTrue(partial.interrupted)
      assert.isBelow(partial.total, 30)
      assert.strictEqual(partial.outcomes.canceled, partial.total)
      // The store holds those, and perhaps one that a call still on the wire recorded during the stop.
      const atStop = JSON.parse((yield* promise(() => Cli.run(["report", "--store", store, "--json"], env))).stdout)
      assert.isAtLeast(atStop.total, partial.total)
      // The next start, with no IDs at all, picks up every request that was pending, and says how many.
      const second = yield* promise(() => Cli.run(["cancel", "--store", store, "--rate", "100", "--json"], env))
      assert.strictEqual(second.code, 0, second.stderr)
      assert.strictEqual(JSON.parse(second.stdout).resumed, 30 - atStop.total)
      const report = yield* promise(() => Cli.run(["report", "--store", store, "--json"], env))
      assert.strictEqual(JSON.parse(report.stdout).outcomes.canceled, 30)
    })
  )

  it.live("a missing API key, a missing file and bad flags exit 2 with one line, no stack trace", () =>
    Effect.gen(function* () {
      const store = Path.join(dir(), "w.sqlite")
      const noKey = yield* promise(() =>
        Cli.run(["cancel", "fpi_01J9M9S346Q3D25VT4F5V37E3S", "--store", store], { FLEX_BASE_URL: "http://127.0.0.1:9" })
      )
      assert.strictEqual(noKey.code, 2)
      assert.include(noKey.stderr, "FLEX_API_KEY")
      assert.notInclude(noKey.stderr, "    at ")
      const badKey = yield* promise(() =>
        Cli.run(["cancel", "fpi_01J9M9S346Q3D25VT4F5V37E3S", "--store", store], { FLEX_API_KEY: "sk_live_LEAKME_123" })
      )
      assert.strictEqual(badKey.code, 2)
      assert.notInclude(badKey.stderr + badKey.stdout, "LEAKME")
      const noFile = yield* promise(() =>
        Cli.run(["cancel", "--file", "/nonexistent/ids.txt", "--store", store], { FLEX_API_KEY: "fsk_test_x" })
      )
      assert.strictEqual(noFile.code, 2)
      assert.include(noFile.stderr, "/nonexistent/ids.txt")
      const badRate = yield* promise(() =>
        Cli.run(["cancel", "--rate", "-1", "--store", store], { FLEX_API_KEY: "fsk_test_x" })
      )
      assert.strictEqual(badRate.code, 2)
      assert.include(badRate.stderr, "--rate")
      const unknown = yield* promise(() => Cli.run(["cancel", "--bogus"], { FLEX_API_KEY: "fsk_test_x" }))
      assert.strictEqual(unknown.code, 2)
      const help = yield* promise(() => Cli.run(["cancel", "--help"], {}))
      assert.strictEqual(help.code, 0)
      assert.include(help.stdout, "--file")
    })
  )

  it.live("input that cannot be meant exits 2 with one line, before the store is created", () =>
    Effect.gen(function* () {
      const work = dir()
      const store = Path.join(work, "store", "w.sqlite")
      const env = { FLEX_API_KEY: "fsk_test_x", FLEX_BASE_URL: "http://127.0.0.1:9" }
      const write = (name: string, content: string) => {
        const path = Path.join(work, name)
        writeFileSync(path, content)
        return path
      }
      const cases: Array<[ReadonlyArray<string>, string]> = [
        [
          ["--file", write("ids.csv", "id,reason\nfpi_01J9M9S346Q3D25VT4F5V37E3S,x\n")],
          `${Path.join(work, "ids.csv")}: no payment_intent_id column (found: id, reason)`
        ],
        [["--file", write("empty.txt", "")], `no payment intent IDs in ${Path.join(work, "empty.txt")}`],
        [["--file", write("bad.txt", "not-an-id\n# x\n")], `no payment intent IDs in ${Path.join(work, "bad.txt")}`],
        [["not-an-id"], "no payment intent IDs in the arguments"]
      ]
      for (const [args, message] of cases) {
        const result = yield* promise(() => Cli.run(["cancel", ...args, "--store", store], env))
        assert.strictEqual(result.code, 2, result.stderr)
        assert.strictEqual(result.stderr, `flex-worker: ${message}\n`)
        assert.strictEqual(result.stdout, "")
      }
      assert.isFalse(existsSync(Path.dirname(store)), "no store was made")
    })
  )

  it.scopedLive("durations read the same in every setting and flag; a refused one names itself and the forms", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 27 })
      const [a] = yield* sandbox.createIntents([{ status: "requires_capture" }])
      const store = Path.join(dir(), "w.sqlite")
      const env = {
        FLEX_API_KEY: sandbox.apiKey,
        FLEX_BASE_URL: sandbox.url,
        FLEX_TIMEOUT: "2s",
        FLEX_WORKER_BACKOFF_BASE: "20ms",
        FLEX_WORKER_BACKOFF_MAX: "200 millis"
      }
      const ok = yield* promise(() => Cli.run(["cancel", a!.payment_intent_id, "--store", store, "--json"], env))
      assert.strictEqual(ok.code, 0, ok.stderr)
      const dry = yield* promise(() =>
        Cli.run(["sweep", "--older-than", "2 seconds", "--dry-run", "--json", "--store", store], env)
      )
      assert.strictEqual(dry.code, 0, dry.stderr)
      const forms = "500ms, 2s, 5m, 6h, 6d, or 500 millis, 2 seconds"
      for (const [name, value, message] of [
        ["FLEX_TIMEOUT", "2 parsecs", `FLEX_TIMEOUT must be a duration above 0: ${forms} (or seconds: 30)`],
        ["FLEX_WORKER_BACKOFF_BASE", "1", `FLEX_WORKER_BACKOFF_BASE must be a duration above 0: ${forms}`],
        ["FLEX_WORKER_BACKOFF_MAX", "soon", `FLEX_WORKER_BACKOFF_MAX must be a duration above 0: ${forms}`]
      ] as const) {
        const refused = yield* promise(() =>
          Cli.run(["cancel", a!.payment_intent_id, "--store", store], { ...env, [name]: value })
        )
        assert.strictEqual(refused.code, 2, refused.stderr)
        assert.strictEqual(refused.stderr, `flex-worker: configuration error: ${message}\n`)
      }
      const age = yield* promise(() => Cli.run(["sweep", "--older-than", "6 dayz", "--store", store], env))
      assert.strictEqual(age.code, 2, age.stderr)
      assert.strictEqual(age.stderr, `flex-worker: --older-than must be a duration: ${forms}; got 6 dayz\n`)
    })
  )

  it.live("a store under an impossible path fails at once with exit 2 and says why", () =>
    Effect.gen(function* () {
      const work = dir()
      const file = Path.join(work, "a-file")
      writeFileSync(file, "")
      const env = { FLEX_API_KEY: "fsk_test_x", FLEX_BASE_URL: "http://127.0.0.1:9" }
      const cases: Array<[string, string]> = [
        [Path.join(file, "w.sqlite"), `${file} is a file, not a directory`],
        [Path.join(file, "deeper", "w.sqlite"), `${file} is a file, not a directory`],
        // Linux: mkdir says ENOENT under /proc although /proc exists (Node's recursive mkdir spun on it forever).
        ...(existsSync("/proc/self")
          ? [
              ["/proc/nope/x.sqlite", "cannot create the directory /proc/nope (no such file or directory, ENOENT)"] as [
                string,
                string
              ]
            ]
          : [])
      ]
      for (const [store, reason] of cases) {
        const running = Cli.start(["cancel", "fpi_01J9M9S346Q3D25VT4F5V37E3S", "--store", store], env)
        const killer = setTimeout(() => running.child.kill("SIGKILL"), 20_000)
        const result = yield* promise(() => running.done)
        clearTimeout(killer)
        assert.strictEqual(result.code, 2, `${store}: ${result.signal ?? ""} ${result.stderr}`)
        // The old bug spun forever: the SIGKILL above would have ended it (no exit code 2).
        assert.strictEqual(result.stderr, `flex-worker: Cannot use the store ${store}: ${reason}\n`)
      }
    })
  )

  it.scopedLive("sweep --dry-run lists old cancelable intents; sweep cancels them", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 23 })
      const old = new Date(Date.now() - 10 * 86_400_000).toISOString().replace(/\.\d+Z$/, "Z")
      const recent = new Date(Date.now() - 3_600_000).toISOString().replace(/\.\d+Z$/, "Z")
      const [oldHold, , oldSucceeded] = yield* sandbox.createIntents([
        { status: "requires_capture", created_at: old },
        { status: "requires_capture", created_at: recent },
        { status: "succeeded", created_at: old }
      ])
      const store = Path.join(dir(), "w.sqlite")
      const env = { FLEX_API_KEY: sandbox.apiKey, FLEX_BASE_URL: sandbox.url, ...fast }
      const dry = yield* promise(() =>
        Cli.run(["sweep", "--older-than", "6d", "--dry-run", "--json", "--store", store], env)
      )
      assert.strictEqual(dry.code, 0, dry.stderr)
      assert.deepStrictEqual(
        JSON.parse(dry.stdout).would_cancel.map((i: any) => i.payment_intent_id),
        [oldHold!.payment_intent_id]
      )
      assert.strictEqual(JSON.parse(dry.stdout).total_amount, oldHold!.amount)
      const dryText = yield* promise(() => Cli.run(["sweep", "--older-than", "6d", "--dry-run", "--store", store], env))
      assert.strictEqual(dryText.code, 0, dryText.stderr)
      const amount = `$${(oldHold!.amount / 100).toLocaleString("en-US", { minimumFractionDigits: 2 })}`
      assert.match(dryText.stdout, new RegExp(`^  ${oldHold!.payment_intent_id}  requires_capture  \\${amount}  `, "m"))
      assert.include(dryText.stdout, `\nTotal: ${amount} in 1 intent`)
      assert.strictEqual((yield* sandbox.calls).filter((c) => c.method === "POST").length, 0)
      const real = yield* promise(() => Cli.run(["sweep", "--older-than", "6d", "--json", "--store", store], env))
      assert.strictEqual(real.code, 0, real.stderr)
      assert.strictEqual(JSON.parse(real.stdout).outcomes.canceled, 1)
      const posts = (yield* sandbox.calls).filter((c) => c.method === "POST").map((c) => c.path)
      assert.deepStrictEqual(posts, [`/v1/payment_intents/${oldHold!.payment_intent_id}/cancel`])
      assert.notInclude(posts.join(), oldSucceeded!.payment_intent_id)
    })
  )
  it.scopedLive(
    "sweep over more than 5 intents asks on a terminal, needs --yes elsewhere; a failed listing cancels nothing",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox.start({ seed: 29 })
        const old = new Date(Date.now() - 10 * 86_400_000).toISOString().replace(/\.\d+Z$/, "Z")
        const intents = yield* sandbox.createIntents(
          Array.from({ length: 7 }, () => ({ status: "requires_capture" as const, created_at: old }))
        )
        const store = Path.join(dir(), "w.sqlite")
        const env = { FLEX_API_KEY: sandbox.apiKey, FLEX_BASE_URL: sandbox.url, ...fast }
        const posts = Effect.map(sandbox.calls, (calls) => calls.filter((c) => c.method === "POST").length)
        // No terminal (stdin is not a TTY here) and no --yes: refused before any cancel.
        const piped = yield* promise(() => Cli.run(["sweep", "--older-than", "6d", "--store", store], env))
        assert.strictEqual(piped.code, 2, piped.stderr)
        assert.match(
          piped.stderr,
          /^flex-worker: sweep would cancel 7 intents \(\$[\d,.]+ in all\); pass --yes to cancel them without a terminal/
        )
        assert.strictEqual(yield* posts, 0)
        // On a terminal (a pseudo-terminal made by script(1)): "n" cancels nothing, "y" cancels all seven.
        const onTerminal = (answer: string) =>
          promise(
            () =>
              new Promise<{ code: number | null; output: string }>((resolve) => {
                const command = [process.execPath, Cli.bin, "sweep", "--older-than", "6d", "--store", store].join(" ")
                const child = spawn("script", ["-qec", command, "/dev/null"], {
                  env: { PATH: process.env.PATH, FLEX_WORKER_LOG_LEVEL: "error", ...env },
                  stdio: ["pipe", "pipe", "pipe"]
                })
                let output = ""
                child.stdout.on("data", (d) => {
                  output += d
                  // Answer once the question is on the terminal.
                  if (output.includes("[y/N]") && !child.stdin.writableEnded) child.stdin.end(`${answer}\n`)
                })
                child.on("close", (code) => resolve({ code, output }))
              })
          )
        const no = yield* onTerminal("n")
        assert.include(no.output, "Cancel 7 intents (")
        assert.include(no.output, "flex-worker: nothing was canceled (not confirmed)")
        assert.strictEqual(no.code, 2, no.output)
        assert.strictEqual(yield* posts, 0)
        const yes = yield* onTerminal("y")
        assert.strictEqual(yes.code, 0, yes.output)
        assert.strictEqual(yield* posts, 7)
        const canceled = yield* promise(() => Cli.run(["report", "--store", store, "--json"], env))
        assert.strictEqual(JSON.parse(canceled.stdout).outcomes.canceled, intents.length)
        // A listing that fails says that nothing was canceled yet.
        const unreachable = yield* promise(() =>
          Cli.run(["sweep", "--older-than", "6d", "--yes", "--store", Path.join(dir(), "w.sqlite")], {
            FLEX_API_KEY: "fsk_test_x",
            FLEX_BASE_URL: "http://127.0.0.1:9",
            FLEX_MAX_RETRIES: "0"
          })
        )
        assert.strictEqual(unreachable.code, 1, unreachable.stderr)
        assert.match(unreachable.stderr, /^flex-worker: listing payment intents failed, so nothing was canceled yet: /)
      })
  )

  it.scopedLive("a wrong key: exit 2 with one line, nothing recorded; the right key then finishes every request", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 24, apiKey: "fsk_test_the_right_one" })
      const intents = yield* sandbox.createIntents([
        { status: "requires_capture", amount: 100, capture_method: "manual" },
        { status: "requires_capture", amount: 200, capture_method: "manual" }
      ])
      const ids = intents.map((i) => i.payment_intent_id)
      const store = Path.join(dir(), "w.sqlite")
      const env = (key: string) => ({ FLEX_API_KEY: key, FLEX_BASE_URL: sandbox.url, ...fast })
      const wrong = yield* promise(() =>
        Cli.run(["cancel", ...ids, "--store", store, "--concurrency", "1"], env("fsk_test_wrong_key_42"))
      )
      assert.strictEqual(wrong.code, 2, wrong.stderr)
      const lines = wrong.stderr.trim().split("\n")
      assert.strictEqual(lines.length, 1, wrong.stderr)
      assert.match(lines[0]!, /^flex-worker: .*401.*2 requests are still pending.*FLEX_API_KEY/)
      assert.notInclude(wrong.stderr, "fsk_test_wrong_key_42")
      assert.strictEqual((yield* sandbox.calls).length, 1)
      const report = yield* promise(() => Cli.run(["report", "--store", store, "--json"], env("fsk_test_wrong_key_42")))
      assert.strictEqual(JSON.parse(report.stdout).total, 0, "no outcome was recorded")
      const right = yield* promise(() => Cli.run(["cancel", "--store", store, "--json"], env(sandbox.apiKey)))
      assert.strictEqual(right.code, 0, right.stderr)
      assert.strictEqual(JSON.parse(right.stdout).outcomes.canceled, 2)
      assert.strictEqual(JSON.parse(right.stdout).amount_released, 300)
    })
  )

  it.scopedLive("serve with a refused key: /healthz 503 with the reason, requests stay pending", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 25, apiKey: "fsk_test_the_right_one" })
      const [intent] = yield* sandbox.createIntents([{ status: "requires_capture" }])
      const store = Path.join(dir(), "w.sqlite")
      const server = yield* Serve.start(["--store", store], {
        FLEX_API_KEY: "fsk_test_wrong_key_43",
        FLEX_BASE_URL: sandbox.url,
        ...fast
      })
      const submitted = yield* promise(() =>
        server.request("/cancellations", {
          method: "POST",
          body: JSON.stringify({ payment_intent_id: intent!.payment_intent_id })
        })
      )
      assert.strictEqual(submitted.status, 202)
      let health = { status: 0, body: undefined as any, text: "" }
      for (let i = 0; i < 200 && health.status !== 503; i++) {
        health = yield* promise(() => server.request("/healthz", { auth: false }))
        if (health.status !== 503) yield* Effect.sleep("50 millis")
      }
      assert.strictEqual(health.status, 503)
      assert.strictEqual(health.body.flex, "key refused")
      assert.include(health.body.reason, "401")
      assert.notInclude(health.text, "fsk_test_wrong_key_43")
      const state = yield* promise(() => server.request(`/cancellations/${submitted.body.request_id}`))
      assert.strictEqual(state.body.state, "pending")
      assert.strictEqual((yield* sandbox.calls).length, 1, "nothing sent after the 401")
    })
  )

  it.scopedLive("serve: retry_gave_up runs a GaveUp request again as its next generation", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 26 })
      const [intent] = yield* sandbox.createIntents([{ status: "processing" }])
      const server = yield* Serve.start(["--store", Path.join(dir(), "w.sqlite")], {
        FLEX_API_KEY: sandbox.apiKey,
        FLEX_BASE_URL: sandbox.url,
        FLEX_WORKER_MAX_ATTEMPTS: "2",
        ...fast
      })
      const body = JSON.stringify({ payment_intent_id: intent!.payment_intent_id })
      const first = yield* promise(() => server.request("/cancellations", { method: "POST", body }))
      const id = first.body.request_id
      const settled = (want: number) =>
        Effect.gen(function* () {
          for (let i = 0; i < 400; i++) {
            const state = yield* promise(() => server.request(`/cancellations/${id}`))
            if (state.body.state === "done" && (yield* sandbox.calls).length >= want) return state.body
            yield* Effect.sleep("50 millis")
          }
          return assert.fail("the request did not finish")
        })
      const done = yield* settled(1)
      assert.strictEqual(done.outcome.outcome, "gave_up")
      assert.include(done.outcome.reason, "still processing")
      const calls = (yield* sandbox.calls).length
      const plain = yield* promise(() => server.request("/cancellations", { method: "POST", body }))
      assert.strictEqual(plain.body.state, "done", "without the flag a resubmission keeps the outcome")
      const retried = yield* promise(() =>
        server.request("/cancellations", {
          method: "POST",
          body: JSON.stringify({ payment_intent_id: intent!.payment_intent_id, retry_gave_up: true })
        })
      )
      assert.strictEqual(retried.status, 202)
      assert.strictEqual(retried.body.retried, true)
      assert.strictEqual(retried.body.state, "pending")
      const again = yield* settled(calls + 1)
      assert.strictEqual(again.outcome.outcome, "gave_up")
      assert.isAbove((yield* sandbox.calls).length, calls, "it ran again")
    })
  )
})

describe("flex-worker show, report and their stores", () => {
  it.scopedLive("show ID: the request, each attempt and the outcome with its reason; report in a stable order", () =>
    Effect.gen(function* () {
      const sandbox = yield* Sandbox.start({ seed: 28 })
      const [hold, paid, busy] = yield* sandbox.createIntents([
        { status: "requires_capture", amount: 700, capture_method: "manual" },
        { status: "succeeded" },
        { status: "processing" }
      ])
      const unknown = "fpi_01JZZZZZZZZZZZZZZZZZZZZZZZ"
      const store = Path.join(dir(), "w.sqlite")
      const env = { FLEX_API_KEY: sandbox.apiKey, FLEX_BASE_URL: sandbox.url, FLEX_WORKER_MAX_ATTEMPTS: "1", ...fast }
      const ids = [busy!.payment_intent_id, unknown, paid!.payment_intent_id, hold!.payment_intent_id]
      const ran = yield* promise(() => Cli.run(["cancel", ...ids, "--store", store, "--ok-if-attention"], env))
      assert.strictEqual(ran.code, 0, ran.stderr)
      // FLEX_WORKER_DATABASE_URL names the store, as for serve.
      const byEnv = { ...env, FLEX_WORKER_DATABASE_URL: store }
      const report = yield* promise(() => Cli.run(["report"], byEnv))
      assert.strictEqual(report.code, 0, report.stderr)
      const lines = report.stdout.split("\n")
      const first = lines.indexOf("Needs attention: 3") + 1
      const attention = lines.slice(first, first + 3)
      // By outcome (not_cancelable, not_found, gave_up), the columns aligned.
      assert.deepStrictEqual(
        attention.map((line) =>
          line
            .trim()
            .split(/\s{2,}/)
            .slice(0, 2)
        ),
        [
          [paid!.payment_intent_id, "not_cancelable"],
          [unknown, "not_found"],
          [busy!.payment_intent_id, "gave_up"]
        ],
        report.stdout
      )
      assert.strictEqual(new Set(attention.map((line) => line.search(/(not_|gave_)/))).size, 1, report.stdout)
      const reason = attention.map((line) => line.slice(line.search(/(not_|gave_)/)).replace(/^\S+\s+/, ""))
      assert.strictEqual(new Set(attention.map((line, i) => line.length - reason[i]!.length)).size, 1, report.stdout)
      const json = JSON.parse((yield* promise(() => Cli.run(["report", "--json"], byEnv))).stdout)
      assert.deepStrictEqual(
        json.needs_attention.map((n: any) => n.outcome),
        ["not_cancelable", "not_found", "gave_up"]
      )

      const shown = yield* promise(() => Cli.run(["show", paid!.payment_intent_id.toLowerCase()], byEnv))
      assert.strictEqual(shown.code, 0, shown.stderr)
      assert.match(shown.stdout, new RegExp(`^Request cancel_${paid!.payment_intent_id.toLowerCase()}\\n`))
      assert.match(shown.stdout, /\n {2}attempt 1 +started \d{4}-/)
      assert.match(shown.stdout, /\n {2}outcome +not_cancelable: succeeded: /)
      assert.match(shown.stdout, /\n {2}calls +1 cancel attempt, 2 API calls\n/)
      const asJson = yield* promise(() =>
        Cli.run(["show", `cancel_${hold!.payment_intent_id.toLowerCase()}`, "--store", store, "--json"], env)
      )
      assert.strictEqual(asJson.code, 0, asJson.stderr)
      const [request] = JSON.parse(asJson.stdout).requests
      assert.strictEqual(request.payment_intent_id, hold!.payment_intent_id)
      assert.strictEqual(request.state, "done")
      assert.deepStrictEqual(
        request.attempts.map((a: any) => [a.generation, a.attempt]),
        [[0, 1]]
      )
      assert.strictEqual(request.outcome.outcome, "canceled")
      assert.strictEqual(request.outcome.amount_released, 700)
      assert.isString(request.outcome.recorded_at)
      const missing = yield* promise(() => Cli.run(["show", "fpi_01J9M9S346Q3D25VT4F5V37E3S", "--store", store], env))
      assert.strictEqual(missing.code, 2)
      assert.strictEqual(missing.stderr, `flex-worker: no request for fpi_01J9M9S346Q3D25VT4F5V37E3S in ${store}\n`)
    })
  )

  if (Pg.url !== undefined) {
    it.live("PostgreSQL configuration errors exit 2 with one plain line, without the password", () =>
      Effect.gen(function* () {
        const at = (change: (url: URL) => void) => {
          const url = new URL(Pg.url!)
          url.password = "PGSECRET42"
          change(url)
          return url.toString()
        }
        const database = `flex_missing_${Date.now().toString(36)}`
        const missing = at((url) => {
          url.pathname = `/${database}`
        })
        const env = { FLEX_API_KEY: "fsk_test_x", FLEX_WORKER_API_TOKEN: "0123456789abcdef0123" }
        for (const args of [
          ["report", "--store", missing],
          ["serve", "--store", missing, "--listen", "127.0.0.1:0", "--runner-address", "127.0.0.1:1"]
        ]) {
          const result = yield* promise(() => Cli.run(args, env))
          assert.strictEqual(result.code, 2, result.stderr)
          assert.strictEqual(result.stderr, `flex-worker: the database "${database}" does not exist (3D000)\n`)
        }
        const role = yield* promise(() =>
          Cli.run(["report"], {
            FLEX_WORKER_DATABASE_URL: at((url) => {
              url.username = "flex_no_such_role"
            })
          })
        )
        assert.strictEqual(role.code, 2, role.stderr)
        assert.match(
          role.stderr,
          /^flex-worker: the database refused the connection: .*flex_no_such_role.* \(28(000|P01)\)\n$/
        )
        assert.notInclude(role.stderr, "PGSECRET42")
      })
    )

    it.scopedLive("report and show read a PostgreSQL store from FLEX_WORKER_DATABASE_URL", () =>
      Effect.gen(function* () {
        const db = yield* Pg.freshDatabase
        const env = { FLEX_WORKER_DATABASE_URL: db.url }
        const empty = yield* promise(() => Cli.run(["report", "--json"], env))
        assert.strictEqual(empty.code, 0, empty.stderr)
        assert.strictEqual(JSON.parse(empty.stdout).total, 0)
        yield* Pg.query(
          db.url,
          `INSERT INTO cancellation_requests (request_id, payment_intent_id, reason, generation, batch, accepted_at)
           VALUES ('order-1', 'fpi_01J9M9S346Q3D25VT4F5V37E3S', 'stale', 0, NULL, '2026-01-01T00:00:00.000Z')`
        )
        const shown = yield* promise(() => Cli.run(["show", "fpi_01J9M9S346Q3D25VT4F5V37E3S", "--json"], env))
        assert.strictEqual(shown.code, 0, shown.stderr)
        const [request] = JSON.parse(shown.stdout).requests
        assert.strictEqual(request.request_id, "order-1")
        assert.strictEqual(request.state, "pending")
        assert.deepStrictEqual(request.attempts, [])
      })
    )
  }
})
