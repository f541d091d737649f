#!/usr/bin/env node
/**
 * `flex-sandbox`: runs the sandbox until SIGTERM or SIGINT.
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import * as Cli from "./internal/cli.js"
import * as Sandbox from "./Sandbox.js"

const parsed = Cli.parse(process.argv.slice(2))

if (parsed._tag === "Left") {
  process.stderr.write(`flex-sandbox: ${parsed.left} (see --help)\n`)
  process.exit(2)
} else if (parsed.right._tag === "Help") {
  process.stdout.write(`${Cli.usage}\n`)
} else {
  const options = parsed.right.options
  const program = Effect.gen(function* () {
    const sandbox = yield* Sandbox.start(options)
    // Tools wait for this exact first line to learn the port.
    process.stdout.write(`listening on ${sandbox.url}\n`)
    const faults = typeof options.faults === "string" ? options.faults : "custom"
    const keys = options.apiKey === undefined ? "any fsk_test_… key" : "the key given by --api-key"
    process.stdout.write(
      `seed ${options.seed}, ${options.intents} payment intents, faults: ${faults}; accepting ${keys}; admin API under /_sandbox\n`
    )
    return yield* Effect.never
  }).pipe(
    Effect.scoped,
    Effect.catchTag("SandboxError", (error) =>
      Effect.sync(() => {
        process.stderr.write(`flex-sandbox: ${error.message}\n`)
        process.exit(error.reason === "InvalidOptions" ? 2 : 1)
      })
    )
  )
  NodeRuntime.runMain(program, { disableErrorReporting: true, disablePrettyLogger: true })
}
