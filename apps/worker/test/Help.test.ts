/**
 * `flex-worker --help` reads like a Unix tool's, and argument errors are one `flex-worker: …` line.
 */
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Help from "../src/cli/Help.js"
import * as Sqlite from "../src/engine/Sqlite.js"
import * as Cli from "./support/cli.js"

beforeAll(() => Cli.ensureBuilt(), 120_000)

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

describe("flex-worker --help", () => {
  it.live("every command's help: plain text, flags with defaults, environment, exit codes, two examples", () =>
    Effect.gen(function* () {
      for (const command of [undefined, ...Help.commands]) {
        const args = command === undefined ? ["--help"] : [command, "--help"]
        // Piped, and with a terminal's variables set: never an escape sequence.
        for (const env of [{}, { NO_COLOR: "1" }, { FORCE_COLOR: "1", TERM: "xterm-256color", COLUMNS: "250" }]) {
          const result = yield* promise(() => Cli.run(args, env))
          assert.strictEqual(result.code, 0, result.stderr)
          assert.strictEqual(result.stderr, "")
          const out = result.stdout
          assert.notInclude(out, "\u001b", `${args.join(" ")}: no ANSI escapes`)
          assert.notInclude(out, "A user-defined piece of text")
          assert.notInclude(out, "This setting is optional")
          assert.notInclude(out, "--wizard")
          assert.notInclude(out, "--completions")
          assert.notMatch(out, /^\$ /m)
          for (const line of out.split("\n")) assert.isAtMost(line.length, 100, line)
          assert.include(out, "Exit codes:")
          assert.include(out, "  3    every request reached an outcome, but some need a person")
          assert.match(out, /^Environment:\n {2}FLEX_\w+ /m)
          const examples = out
            .slice(out.indexOf("Examples:\n") + "Examples:\n".length)
            .replace(/\n+$/, "")
            .split("\n")
          assert.strictEqual(examples.length, 2, out)
          for (const example of examples) assert.match(example, /^ {2}(FLEX_\w+=.* )?flex-worker \w+/)
        }
      }
      const cancel = (yield* promise(() => Cli.run(["cancel", "--help"], {}))).stdout
      assert.match(cancel, /^Usage: flex-worker cancel /)
      assert.match(cancel, /^ {2}--rate N +.*\(default 25\)$/m)
      assert.match(cancel, /^ {2}--concurrency N +.*\(default 16\)$/m)
      assert.match(cancel, /^ {2}--store FILE +.*\(default \.\/\.flex-worker\/worker\.sqlite\)$/m)
      const sweep = (yield* promise(() => Cli.run(["sweep", "--help"], {}))).stdout
      assert.match(sweep, /^ {2}--status S +a status to cancel, repeatable \(default requires_capture/m)
      assert.match(sweep, /^ {2}--older-than DURATION +required/m)
      assert.match(sweep, /^ {2}--yes +/m)
      assert.include((yield* promise(() => Cli.run(["serve", "--help"], {}))).stdout, "FLEX_WORKER_API_TOKEN")
      // `-h` and `help COMMAND` are the same help.
      assert.strictEqual((yield* promise(() => Cli.run(["show", "-h"], {}))).stdout, Help.text("show"))
      assert.strictEqual((yield* promise(() => Cli.run(["help", "report"], {}))).stdout, Help.text("report"))
    })
  )

  it("the help's default store is the engine's", () => {
    assert.strictEqual(Help.defaultStore, Sqlite.defaultStore)
  })

  it.live("argument errors: one line naming the flag and what it takes, exit 2", () =>
    Effect.gen(function* () {
      const cases: Array<[ReadonlyArray<string>, string]> = [
        [["cancel", "--rate", "abc"], "--rate takes a whole number, got 'abc' (see flex-worker cancel --help)"],
        [
          ["cancel", "--concurrency=1.5"],
          "--concurrency takes a whole number, got '1.5' (see flex-worker cancel --help)"
        ],
        [["sweep"], "sweep needs --older-than DURATION (see flex-worker sweep --help)"],
        [
          ["sweep", "--older-than", "6d", "--status", "bogus"],
          "--status takes one of requires_payment_method, requires_confirmation, requires_action, processing, requires_capture, succeeded, canceled, got 'bogus'"
        ],
        [["report", "--jsn"], "unknown option --jsn (see flex-worker report --help)"],
        [["report", "extra"], "unexpected argument extra (see flex-worker report --help)"],
        [["show"], "show needs ID (see flex-worker show --help)"],
        [["cancle"], "unknown command 'cancle' (one of cancel, report, show, sweep, serve; see flex-worker --help)"],
        [[], "no command given (one of cancel, report, show, sweep, serve; see flex-worker --help)"]
      ]
      for (const [args, message] of cases) {
        const result = yield* promise(() =>
          Cli.run(args, { FLEX_API_KEY: "fsk_test_x", FLEX_BASE_URL: "http://127.0.0.1:9" })
        )
        assert.strictEqual(result.code, 2, `${args.join(" ")}: ${result.stderr}`)
        assert.strictEqual(result.stderr, `flex-worker: ${message}\n`)
        assert.strictEqual(result.stdout, "")
      }
    })
  )
})
