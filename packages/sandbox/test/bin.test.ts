import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { afterEach, assert, beforeAll, describe, it } from "@effect/vitest"
import { PaymentIntent } from "@flex/domain"
import { Schema } from "effect"
import { send } from "./support/http.js"

// The CLI runs as users run it: the built bin. `tsc -b` is incremental, so this is quick when turbo's
// `check` has already built it.
const bin = fileURLToPath(new URL("../dist/bin.js", import.meta.url))
beforeAll(() => {
  execFileSync("npx", ["tsc", "-b", "tsconfig.src.json"], { cwd: fileURLToPath(new URL("..", import.meta.url)) })
}, 120_000)

interface Cli {
  readonly child: ChildProcess
  readonly firstLine: Promise<string>
  readonly exit: Promise<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }>
}

const running = new Set<ChildProcess>()

const run = (args: ReadonlyArray<string>): Cli => {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"] })
  running.add(child)
  let stdout = ""
  let stderr = ""
  let onLine: (line: string) => void = () => {}
  const firstLine = new Promise<string>((resolve) => {
    onLine = resolve
  })
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk
    if (stdout.includes("\n")) onLine(stdout.slice(0, stdout.indexOf("\n")))
  })
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk
  })
  const exit = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on("exit", (code) => {
      running.delete(child)
      onLine(stdout)
      resolve({ code, stdout, stderr })
    })
  )
  return { child, firstLine, exit }
}

const urlOf = (line: string): string => {
  const match = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line)
  if (match === null) throw new Error(`unexpected first line: ${line}`)
  return match[1]!
}

afterEach(() => {
  for (const child of running) child.kill("SIGKILL")
})

describe("flex-sandbox", () => {
  it("prints 'listening on http://HOST:PORT' first, serves the seeded intents, and exits 0 on SIGTERM", async () => {
    const cli = run(["--port", "0", "--seed", "9", "--intents", "12"])
    const url = urlOf(await cli.firstLine)
    const res = await send(`${url}/v1/payment_intents?limit=100`, { key: "fsk_test_from_cli_test" })
    assert.strictEqual(res.status, 200)
    const intents = Schema.decodeUnknownSync(PaymentIntent.ListEnvelope)(JSON.parse(res.body)).payment_intents
    assert.strictEqual(intents.length, 12)
    cli.child.kill("SIGTERM")
    const { code, stderr } = await cli.exit
    assert.strictEqual(code, 0)
    assert.strictEqual(stderr, "")
  })

  it("exits 0 on SIGINT", async () => {
    const cli = run([])
    urlOf(await cli.firstLine)
    cli.child.kill("SIGINT")
    assert.strictEqual((await cli.exit).code, 0)
  })

  it("exits 2 with a one-line error and no stack trace on bad flags", async () => {
    const cases = [
      ["--bogus"],
      ["--port", "http"],
      ["--intents", "-1"],
      ["--faults", "hurricane"],
      ["--rate-limit", "0"],
      ["positional"]
    ]
    const results = await Promise.all(cases.map((args) => run(args).exit))
    for (const [i, { code, stdout, stderr }] of results.entries()) {
      const args = cases[i]!
      assert.strictEqual(code, 2, args.join(" "))
      assert.strictEqual(stdout, "")
      assert.match(stderr, /^flex-sandbox: [^\n]+\n$/, args.join(" "))
      assert.notInclude(stderr, "    at ")
    }
  })

  it("takes a fault profile file, a rate limit and a pinned key, and never prints the key", async () => {
    const dir = mkdtempSync(Path.join(tmpdir(), "flex-sandbox-"))
    const file = Path.join(dir, "faults.json")
    writeFileSync(file, JSON.stringify({ cancel: { reset_rate: 1 } }))
    const key = "fsk_test_pinned_for_cli"
    const cli = run(["--faults", file, "--rate-limit", "1000", "--api-key", key, "--intents", "3"])
    const url = urlOf(await cli.firstLine)
    const faults = await send(`${url}/_sandbox/faults`, { key })
    assert.strictEqual(faults.status, 200)
    assert.deepStrictEqual(JSON.parse(faults.body), {
      cancel: { reset_rate: 1 },
      rate_limit: { requests_per_second: 1000 }
    })
    assert.strictEqual((await send(`${url}/v1/payment_intents`, { key: "fsk_test_other" })).status, 401)
    cli.child.kill("SIGTERM")
    const { code, stdout } = await cli.exit
    assert.strictEqual(code, 0)
    assert.notInclude(stdout, key)
  })

  it("rejects an invalid fault profile file with exit 2", async () => {
    const dir = mkdtempSync(Path.join(tmpdir(), "flex-sandbox-"))
    const file = Path.join(dir, "faults.json")
    writeFileSync(file, JSON.stringify({ default: { error_rate: 3 } }))
    const { code, stderr } = await run(["--faults", file]).exit
    assert.strictEqual(code, 2)
    assert.include(stderr, "error_rate")
  })

  it("exits 1 with a one-line error when the port is taken", async () => {
    const first = run([])
    const port = new URL(urlOf(await first.firstLine)).port
    const { code, stderr } = await run(["--port", port]).exit
    assert.strictEqual(code, 1)
    assert.match(stderr, /^flex-sandbox: Could not listen on 127\.0\.0\.1:\d+: [^\n]*EADDRINUSE[^\n]*\n$/)
    first.child.kill("SIGTERM")
    assert.strictEqual((await first.exit).code, 0)
  })

  it("prints its usage with --help", async () => {
    const { code, stdout } = await run(["--help"]).exit
    assert.strictEqual(code, 0)
    assert.include(stdout, "--faults PRESET|FILE")
  })
})
