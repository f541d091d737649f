/**
 * When and how long the client waits before trying a request again.
 *
 * The project's own policy rather than `HttpClient.retryTransient`, which skips 409 and ignores
 * `Retry-After`. It follows what the Stainless SDKs (openai-node) do and what Stripe's docs advise:
 * retry only what may succeed on a second try, back off exponentially with jitter, and let the server
 * say how long to wait.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import type { FlexError } from "./FlexError.js"

/**
 * @category models
 * @since 0.1.0
 */
export interface RetryPolicy {
  /** Retries after the first attempt; 0 turns retries off. */
  readonly maxRetries: number
  /** The first backoff; each further retry doubles it. */
  readonly initialDelay: Duration.Duration
  /** The longest computed backoff. */
  readonly maxDelay: Duration.Duration
  /** The longest wait a `Retry-After` header can ask for; a longer one is cut to this. */
  readonly maxRetryAfter: Duration.Duration
}

/**
 * 2 retries, backoff from 500 ms doubling up to 8 s, `Retry-After` honoured up to 60 s.
 *
 * @category constructors
 * @since 0.1.0
 */
export const defaults: RetryPolicy = {
  maxRetries: 2,
  initialDelay: Duration.millis(500),
  maxDelay: Duration.seconds(8),
  maxRetryAfter: Duration.seconds(60)
}

/**
 * @category constructors
 * @since 0.1.0
 */
export const make = (options: Partial<RetryPolicy> = {}): RetryPolicy => ({ ...defaults, ...options })

/**
 * Whether a failed attempt is worth repeating.
 *
 * - No response, or no response in time: the request may not have arrived; the idempotency key makes
 *   a repeat safe if it did.
 * - 408 (the server gave up waiting), 409 (a concurrent request or lock won), 429 (rate limit) and
 *   ≥ 500: transient by definition.
 * - Any other 4xx: the request itself is wrong; repeating it cannot help.
 * - A `GET` whose 2xx body is empty, cut short or not JSON (a `DecodeError` with no field): the bytes
 *   were lost on the way, like a dropped connection, and a read changes nothing, so it is read again.
 * - Any other body that does not decode: the answer came whole and is not what the client understands
 *   (an unknown status, say), so it would come the same again; and after a `POST` the request may
 *   have acted, so repeating it would only repeat it.
 *
 * @category predicates
 * @since 0.1.0
 */
export const isRetryable = (error: FlexError): boolean => {
  switch (error._tag) {
    case "ConnectionError":
    case "TimeoutError":
    case "ConflictError":
    case "RateLimitError":
      return true
    case "ServerError":
      return error.status === 408 || error.status >= 500
    case "DecodeError":
      return error.method === "GET" && error.field === ""
    default:
      return false
  }
}

/**
 * The backoff formula, pure: the wait in milliseconds before retry number `retry` (0 for the first),
 * `min(initial · 2^retry, max)` minus up to 25 % jitter (`random` in [0, 1) picks how much), or the
 * server's `retryAfter` (milliseconds) when it asks for longer, cut to `maxRetryAfter`. The client
 * draws `random` from Effect's `Random`; a durable workflow that must sleep the same on every replay
 * passes a value seeded by its execution.
 *
 * @category delays
 * @since 0.1.0
 */
export const backoffMillis = (
  policy: RetryPolicy,
  retry: number,
  random: number,
  retryAfter?: number | undefined
): number => {
  const base = Math.min(Duration.toMillis(policy.initialDelay) * 2 ** retry, Duration.toMillis(policy.maxDelay))
  const backoff = base * (1 - 0.25 * random)
  if (retryAfter === undefined) return Math.round(backoff)
  return Math.round(Math.max(backoff, Math.min(retryAfter, Duration.toMillis(policy.maxRetryAfter))))
}

/**
 * The wait before retry number `retry` (0 for the first retry): {@link backoffMillis} with Effect's
 * `Random`, and a `Retry-After` from a 429 honoured up to `maxRetryAfter`.
 *
 * @category delays
 * @since 0.1.0
 */
export const delay = (policy: RetryPolicy, retry: number, error: FlexError): Effect.Effect<Duration.Duration> =>
  Effect.map(Random.next, (random) =>
    Duration.millis(
      backoffMillis(policy, retry, random, error._tag === "RateLimitError" ? error.retryAfter : undefined)
    )
  )

/**
 * Runs `attempt` (given the attempt number, 0 first) and retries it under the policy. The attempt is
 * called again as is: anything that must stay the same across attempts, such as the idempotency key,
 * is fixed by the caller before this is called.
 *
 * @category combinators
 * @since 0.1.0
 */
export const retry = <A, E extends FlexError, R>(
  policy: RetryPolicy,
  attempt: (n: number) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> => {
  const loop = (n: number): Effect.Effect<A, E, R> =>
    Effect.catchAll(
      Effect.suspend(() => attempt(n)),
      (error) =>
        n < policy.maxRetries && isRetryable(error)
          ? Effect.flatMap(delay(policy, n, error), (wait) =>
              Effect.logDebug("Flex request failed; retrying").pipe(
                Effect.annotateLogs({
                  error: error._tag,
                  method: error.method,
                  path: error.path,
                  retry: n + 1,
                  waitMillis: Duration.toMillis(wait)
                }),
                Effect.zipRight(Effect.sleep(wait)),
                Effect.zipRight(loop(n + 1))
              )
            )
          : Effect.fail(error)
    )
  // Nothing to retry: the attempt alone, without the handler that would only fail again.
  return policy.maxRetries > 0 ? loop(0) : Effect.suspend(() => attempt(0))
}

/**
 * Parses a `Retry-After` header: delay-seconds or an HTTP date, into milliseconds from `now`.
 * `undefined` when absent or unreadable; never negative.
 *
 * @category parsing
 * @since 0.1.0
 */
export const parseRetryAfter = (header: string | undefined, now: number): number | undefined => {
  if (header === undefined) return undefined
  const trimmed = header.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000)
  const date = Date.parse(trimmed)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}
