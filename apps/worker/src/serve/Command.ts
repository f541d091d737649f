/**
 * `flex-worker serve`: its flags checked, then the server run until a signal stops it.
 */
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Input from "../cli/Input.js"
import * as Postgres from "../engine/Postgres.js"
import * as Serve from "./Serve.js"

const parseListen = (text: string) => {
  const match = /^([^\s:]+|\[[^\]]+\]):(\d{1,5})$/.exec(text.trim())
  const port = match === null ? Number.NaN : Number(match[2])
  return match !== null && port >= 0 && port < 65536
    ? Effect.succeed({ host: match[1]!.replace(/^\[|\]$/g, ""), port })
    : Effect.fail(new Input.InputError({ message: `--listen must be host:port, got ${text}` }))
}

export const serve = (options: {
  readonly store: string
  readonly listen: string
  readonly runnerAddress: string
  readonly rate: number
}) =>
  Effect.gen(function* () {
    if (options.rate < 0) {
      return yield* Effect.fail(new Input.InputError({ message: `--rate must be at least 0, got ${options.rate}` }))
    }
    const listen = yield* parseListen(options.listen)
    const runnerAddress = yield* Postgres.parseRunnerAddress(options.runnerAddress)
    const token = yield* Config.redacted("FLEX_WORKER_API_TOKEN").pipe(
      Config.validate({
        message: "FLEX_WORKER_API_TOKEN must be at least 16 characters",
        validation: (t) => Redacted.value(t).length >= 16
      })
    )
    yield* Layer.launch(
      Serve.layer({
        store: options.store,
        host: listen.host,
        port: listen.port,
        token,
        rate: options.rate,
        runnerAddress
      })
    )
  })
