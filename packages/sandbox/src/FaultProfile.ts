/**
 * A fault profile: how the sandbox misbehaves, per endpoint, and a global token-bucket rate limit.
 *
 * Every request to the public API draws its fault from the sandbox's seeded generator in arrival
 * order, so one seed and one profile replay the same sequence of faults. The `default` settings apply
 * to every endpoint; `retrieve`, `list` and `cancel` override them field by field. The JSON form is
 * the same as the schema (what `PUT /_sandbox/faults` and `flex-sandbox --faults FILE` take):
 *
 * ```json
 * {
 *   "rate_limit": { "requests_per_second": 25, "burst": 25 },
 *   "default": { "latency": { "min_ms": 0, "max_ms": 40 }, "error_rate": 0.02, "reset_rate": 0.01 },
 *   "cancel": { "commit_then_drop_rate": 0.05 }
 * }
 * ```
 *
 * @since 0.1.0
 */
import * as DecodeFailure from "@flex/domain/DecodeFailure"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

/**
 * The endpoints a profile can set apart.
 *
 * @category models
 * @since 0.1.0
 */
export type Endpoint = "retrieve" | "list" | "cancel"

/**
 * The names of the faults, as they appear in the `fault` field of the call log.
 *
 * - `rate_limit`: 429 with `Retry-After`, from the token bucket (not drawn: it happens when the bucket is empty).
 * - `server_error`: a JSON 500, 502 or 503 before the request is executed.
 * - `html_502`: a proxy's HTML 502 page before the request is executed.
 * - `reset`: the connection is reset before the request is executed.
 * - `hang`: no answer at all; the connection stays open until the client gives up or the sandbox stops.
 * - `malformed_json`: the request is executed, then the body is cut short (status and headers are kept).
 * - `commit_then_drop`: the request is executed (a keyed response is stored), then the connection is reset.
 *
 * @category models
 * @since 0.1.0
 */
export type Fault =
  | "rate_limit"
  | "server_error"
  | "html_502"
  | "reset"
  | "hang"
  | "malformed_json"
  | "commit_then_drop"

const Rate = Schema.Number.pipe(
  Schema.between(0, 1, { message: () => "Expected a rate between 0 and 1" }),
  Schema.annotations({ identifier: "Rate" })
)

const Milliseconds = Schema.Int.pipe(Schema.between(0, 600_000)).annotations({ identifier: "Milliseconds" })

/**
 * Added latency, uniform between `min_ms` and `max_ms` (both included).
 *
 * @category schemas
 * @since 0.1.0
 */
export const Latency = Schema.Struct({ min_ms: Milliseconds, max_ms: Milliseconds }).pipe(
  Schema.filter((latency) => latency.min_ms <= latency.max_ms || "Expected min_ms <= max_ms"),
  Schema.annotations({ identifier: "Latency" })
)

/**
 * @category models
 * @since 0.1.0
 */
export interface Latency extends Schema.Schema.Type<typeof Latency> {}

/**
 * The statuses a `server_error` fault answers with.
 *
 * @category schemas
 * @since 0.1.0
 */
export const ErrorStatus = Schema.Literal(500, 502, 503)

/**
 * The fault settings of one endpoint (or of all, as `default`). Every field is optional; rates are
 * probabilities per request and must add up to at most 1.
 *
 * @category schemas
 * @since 0.1.0
 */
export const Settings = Schema.Struct({
  latency: Schema.optionalWith(Latency, { exact: true }),
  error_rate: Schema.optionalWith(Rate, { exact: true }),
  error_statuses: Schema.optionalWith(Schema.NonEmptyArray(ErrorStatus), { exact: true }),
  html_502_rate: Schema.optionalWith(Rate, { exact: true }),
  reset_rate: Schema.optionalWith(Rate, { exact: true }),
  hang_rate: Schema.optionalWith(Rate, { exact: true }),
  malformed_rate: Schema.optionalWith(Rate, { exact: true }),
  commit_then_drop_rate: Schema.optionalWith(Rate, { exact: true })
}).annotations({ identifier: "FaultSettings" })

/**
 * @category models
 * @since 0.1.0
 */
export interface Settings extends Schema.Schema.Type<typeof Settings> {}

/**
 * A token bucket: `requests_per_second` tokens flow in, the bucket holds at most `burst` (default: one
 * second's worth, at least 1). A request that finds it empty gets 429 with `Retry-After` in whole
 * seconds (at least 1).
 *
 * @category schemas
 * @since 0.1.0
 */
export const RateLimit = Schema.Struct({
  requests_per_second: Schema.Number.pipe(Schema.positive(), Schema.finite()),
  burst: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { exact: true })
}).annotations({ identifier: "RateLimit" })

/**
 * @category models
 * @since 0.1.0
 */
export interface RateLimit extends Schema.Schema.Type<typeof RateLimit> {}

/**
 * Settings with every field filled in: what one request to one endpoint is subject to.
 *
 * @category models
 * @since 0.1.0
 */
export interface Resolved {
  readonly latency: Latency
  readonly error_rate: number
  readonly error_statuses: ReadonlyArray<500 | 502 | 503>
  readonly html_502_rate: number
  readonly reset_rate: number
  readonly hang_rate: number
  readonly malformed_rate: number
  readonly commit_then_drop_rate: number
}

const none: Resolved = {
  latency: { min_ms: 0, max_ms: 0 },
  error_rate: 0,
  error_statuses: [500, 502, 503],
  html_502_rate: 0,
  reset_rate: 0,
  hang_rate: 0,
  malformed_rate: 0,
  commit_then_drop_rate: 0
}

const endpoints: ReadonlyArray<Endpoint> = ["retrieve", "list", "cancel"]

const totalRate = (s: Resolved): number =>
  s.error_rate + s.html_502_rate + s.reset_rate + s.hang_rate + s.malformed_rate + s.commit_then_drop_rate

const fields = {
  rate_limit: Schema.optionalWith(Schema.NullOr(RateLimit), { exact: true }),
  default: Schema.optionalWith(Settings, { exact: true }),
  retrieve: Schema.optionalWith(Settings, { exact: true }),
  list: Schema.optionalWith(Settings, { exact: true }),
  cancel: Schema.optionalWith(Settings, { exact: true })
}

/**
 * The settings one endpoint gets: its own, over `default`, over no faults at all. Without an endpoint
 * (a request to an unknown path), `default` alone.
 *
 * @category resolving
 * @since 0.1.0
 */
export const settingsFor = (profile: FaultProfile, endpoint?: Endpoint): Resolved => ({
  ...none,
  ...profile.default,
  ...(endpoint === undefined ? undefined : profile[endpoint])
})

/**
 * @category schemas
 * @since 0.1.0
 */
export const FaultProfile = Schema.Struct(fields).pipe(
  Schema.filter((profile) => {
    for (const endpoint of [undefined, ...endpoints]) {
      const total = totalRate(settingsFor(profile, endpoint))
      if (total > 1 + 1e-9) {
        return `The fault rates of ${endpoint ?? "default"} add up to ${total}; at most 1 is possible`
      }
    }
    return true
  }),
  Schema.annotations({ identifier: "FaultProfile" })
)

/**
 * @category models
 * @since 0.1.0
 */
export interface FaultProfile extends Schema.Schema.Type<typeof FaultProfile> {}

/**
 * The names of the built-in profiles.
 *
 * @category schemas
 * @since 0.1.0
 */
export const PresetName = Schema.Literal("none", "flaky", "storm")

/**
 * @category models
 * @since 0.1.0
 */
export type PresetName = typeof PresetName.Type

/**
 * The built-in profiles.
 *
 * - `none`: a well-behaved API.
 * - `flaky`: a mild, realistic day: some latency, about 6% of requests failing in one way or another, a
 *   few cancels committed whose answer is lost. No hangs, so clients never wait out a timeout.
 * - `storm`: an incident: slow, a 25 req/s rate limit, and about a third of requests failing, hangs
 *   included.
 *
 * @category presets
 * @since 0.1.0
 */
export const presets: { readonly [K in PresetName]: FaultProfile } = {
  none: {},
  flaky: {
    default: {
      latency: { min_ms: 0, max_ms: 30 },
      error_rate: 0.03,
      html_502_rate: 0.01,
      reset_rate: 0.01,
      malformed_rate: 0.01
    },
    cancel: { commit_then_drop_rate: 0.02 }
  },
  storm: {
    rate_limit: { requests_per_second: 25, burst: 25 },
    default: {
      latency: { min_ms: 20, max_ms: 400 },
      error_rate: 0.12,
      html_502_rate: 0.05,
      reset_rate: 0.05,
      hang_rate: 0.02,
      malformed_rate: 0.03
    },
    cancel: { commit_then_drop_rate: 0.06 }
  }
}

/**
 * True for the name of a built-in profile.
 *
 * @category guards
 * @since 0.1.0
 */
export const isPresetName: (u: unknown) => u is PresetName = Schema.is(PresetName)

/**
 * A profile or the name of a built-in one, as `Sandbox.start` and `PUT /_sandbox/faults` take it.
 *
 * @category schemas
 * @since 0.1.0
 */
export const Input = Schema.Union(PresetName, FaultProfile)

/**
 * @category models
 * @since 0.1.0
 */
export type Input = FaultProfile | PresetName

/**
 * Validates a profile or a preset name from untrusted input (a JSON file, an admin request) and
 * resolves presets. The error message names the offending field.
 *
 * @category resolving
 * @since 0.1.0
 */
export const decode = (input: unknown): Either.Either<FaultProfile, string> =>
  ParseResult.decodeUnknownEither(Input)(input, { onExcessProperty: "error" }).pipe(
    Either.map((decoded) => (typeof decoded === "string" ? presets[decoded] : decoded)),
    Either.mapLeft((issue) => DecodeFailure.format(DecodeFailure.fromParseError(issue)))
  )
