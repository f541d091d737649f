/**
 * The `flex-sandbox` command line: flags to {@link SandboxOptions}, with one-line errors.
 *
 * @internal
 */
import { readFileSync } from "node:fs"
import { parseArgs } from "node:util"
import * as Either from "effect/Either"
import * as FaultProfile from "../FaultProfile.js"
import type { SandboxOptions } from "../Sandbox.js"

export const usage = `Usage: flex-sandbox [options]

A stateful local Flex API with fault injection.

Options:
  --host HOST          interface to listen on (default 127.0.0.1)
  --port N             port, 0 for a free one (default 0)
  --seed N             seed of the generated data and the fault sequence (default 1)
  --intents N          payment intents to seed, in a mix of statuses (default 20)
  --faults PRESET|FILE none, flaky, storm, or a JSON fault profile file (default none)
  --rate-limit N       token-bucket rate limit, requests per second
  --api-key KEY        accept only this key (default: any fsk_test_… key)
  -h, --help           show this help

The first line on stdout is "listening on http://HOST:PORT". SIGTERM or SIGINT stops it (exit 0).`

export type Parsed = { readonly _tag: "Help" } | { readonly _tag: "Run"; readonly options: SandboxOptions }

const integer = (flag: string, value: string, min: number, max: number): number => {
  const n = /^-?\d+$/.test(value) ? Number(value) : Number.NaN
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new Error(`--${flag} must be an integer from ${min} to ${max}, got '${value}'`)
  }
  return n
}

const faults = (value: string): FaultProfile.Input => {
  if (FaultProfile.isPresetName(value)) return value
  let text: string
  try {
    text = readFileSync(value, "utf8")
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unreadable"
    throw new Error(`--faults is neither a preset (none, flaky, storm) nor a readable file: ${value} (${code})`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new Error(`--faults file ${value} is not valid JSON`)
  }
  const decoded = FaultProfile.decode(json)
  if (Either.isLeft(decoded)) throw new Error(`--faults file ${value}: ${decoded.left}`)
  return decoded.right
}

/** Parses `argv` (without the node and script paths); the error is one line, for stderr. */
export const parse = (argv: ReadonlyArray<string>): Either.Either<Parsed, string> => {
  try {
    const { values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: "string" },
        port: { type: "string" },
        seed: { type: "string" },
        intents: { type: "string" },
        faults: { type: "string" },
        "rate-limit": { type: "string" },
        "api-key": { type: "string" },
        help: { type: "boolean", short: "h" }
      }
    })
    if (values.help === true) return Either.right({ _tag: "Help" })
    const rateLimit = values["rate-limit"] === undefined ? undefined : Number(values["rate-limit"])
    if (rateLimit !== undefined && !(Number.isFinite(rateLimit) && rateLimit > 0)) {
      throw new Error(`--rate-limit must be a positive number, got '${values["rate-limit"]}'`)
    }
    const apiKey = values["api-key"]
    if (apiKey !== undefined && (apiKey === "" || /\s/.test(apiKey))) {
      throw new Error("--api-key must be a non-empty key without spaces")
    }
    if (values.host === "") throw new Error("--host must not be empty")
    return Either.right({
      _tag: "Run",
      options: {
        host: values.host,
        port: values.port === undefined ? 0 : integer("port", values.port, 0, 65535),
        seed:
          values.seed === undefined
            ? 1
            : integer("seed", values.seed, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
        intents: values.intents === undefined ? 20 : integer("intents", values.intents, 0, 1_000_000),
        faults: values.faults === undefined ? "none" : faults(values.faults),
        rateLimit,
        apiKey
      }
    })
  } catch (error) {
    // parseArgs explains unknown flags at length; the first sentence is the useful part.
    const message = error instanceof Error ? error.message : String(error)
    return Either.left(message.split(/\.\s/)[0]!.replace(/\s+/g, " "))
  }
}
