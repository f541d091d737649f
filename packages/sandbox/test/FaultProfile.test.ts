import { assert, describe, it } from "@effect/vitest"
import { ErrorBody, PaymentIntent } from "@flex/domain"
import { Effect, Either, Exit, Option, Schema, Scope } from "effect"
import * as FaultProfile from "../src/FaultProfile.js"
import * as Sandbox from "../src/Sandbox.js"
import { failure, request, send } from "./support/http.js"

const decodeEnvelope = Schema.decodeUnknownSync(PaymentIntent.Envelope)
const decodeError = Schema.decodeUnknownSync(ErrorBody.ErrorBody)

const parses = (body: string): boolean => {
  try {
    JSON.parse(body)
    return true
  } catch {
    return false
  }
}

/** A sandbox with one fresh `requires_capture` intent, and helpers to cancel and read it. */
const withIntent = (options: Sandbox.SandboxOptions) =>
  Effect.gen(function* () {
    const sandbox = yield* Sandbox.start(options)
    const [intent] = yield* sandbox.createIntents([{ status: "requires_capture", amount: 6100 }])
    const id = intent!.payment_intent_id
    const cancelUrl = `${sandbox.url}/v1/payment_intents/${id}/cancel`
    const cancel = (idempotencyKey?: string) => ({
      method: "POST",
      key: sandbox.apiKey,
      ...(idempotencyKey === undefined ? {} : { headers: { "idempotency-key": idempotencyKey } })
    })
    const status = sandbox.intent(id).pipe(Effect.map((intent) => Option.getOrThrow(intent).status))
    const lastCall = sandbox.calls.pipe(Effect.map((calls) => calls[calls.length - 1]!))
    return { sandbox, id, cancelUrl, cancel, status, lastCall }
  })

describe("FaultProfile", () => {
  describe("schema", () => {
    it("decodes every preset and resolves preset names", () => {
      for (const name of ["none", "flaky", "storm"] as const) {
        const decoded = FaultProfile.decode(name)
        assert.deepStrictEqual(decoded, Either.right(FaultProfile.presets[name]))
        assert.deepStrictEqual(
          FaultProfile.decode(FaultProfile.presets[name]),
          Either.right(FaultProfile.presets[name])
        )
      }
      assert.isTrue(Either.isLeft(FaultProfile.decode("hurricane")))
    })

    it("rejects impossible profiles with a message naming the field", () => {
      const message = (input: unknown) => {
        const decoded = FaultProfile.decode(input)
        if (Either.isRight(decoded)) throw new Error(`expected ${JSON.stringify(input)} to be rejected`)
        return decoded.left
      }
      assert.include(message({ default: { error_rate: 1.5 } }), "error_rate")
      assert.include(message({ cancel: { reset_rate: -0.1 } }), "reset_rate")
      assert.include(message({ default: { latency: { min_ms: 50, max_ms: 10 } } }), "min_ms <= max_ms")
      assert.include(message({ default: { error_statuses: [504] } }), "error_statuses")
      assert.include(message({ default: { error_statuses: [] } }), "error_statuses")
      assert.include(message({ rate_limit: { requests_per_second: 0 } }), "requests_per_second")
      assert.include(message({ default: { reset_rte: 0.1 } }), "reset_rte")
      // Rates add up per endpoint, the endpoint's own over the default.
      assert.include(message({ default: { reset_rate: 0.6 }, cancel: { hang_rate: 0.6 } }), "cancel")
      assert.isTrue(
        Either.isRight(FaultProfile.decode({ default: { reset_rate: 0.6 }, cancel: { reset_rate: 0, hang_rate: 1 } }))
      )
    })

    it("resolves an endpoint's settings over the default over no faults", () => {
      const profile: FaultProfile.FaultProfile = {
        default: { error_rate: 0.1, latency: { min_ms: 5, max_ms: 10 } },
        cancel: { error_rate: 0.3, commit_then_drop_rate: 0.2 }
      }
      const cancel = FaultProfile.settingsFor(profile, "cancel")
      assert.strictEqual(cancel.error_rate, 0.3)
      assert.strictEqual(cancel.commit_then_drop_rate, 0.2)
      assert.deepStrictEqual(cancel.latency, { min_ms: 5, max_ms: 10 })
      const retrieve = FaultProfile.settingsFor(profile, "retrieve")
      assert.strictEqual(retrieve.error_rate, 0.1)
      assert.strictEqual(retrieve.commit_then_drop_rate, 0)
      assert.deepStrictEqual(retrieve.error_statuses, [500, 502, 503])
      assert.strictEqual(FaultProfile.settingsFor({}, "list").reset_rate, 0)
    })
  })

  describe("on the wire", () => {
    it.scoped("reset: the client sees a socket error and nothing was executed", () =>
      Effect.gen(function* () {
        const { sandbox, cancelUrl, cancel, status, lastCall } = yield* withIntent({
          faults: { default: { reset_rate: 1 } }
        })
        const error = yield* failure(cancelUrl, cancel("reset-1"))
        assert.strictEqual(error.code, "ECONNRESET")
        assert.strictEqual(yield* status, "requires_capture")
        const call = yield* lastCall
        assert.strictEqual(call.status, null)
        assert.strictEqual(call.fault, "reset")
        // Nothing was stored under the key: the retry is executed.
        yield* sandbox.setFaults("none")
        const retry = yield* request(cancelUrl, cancel("reset-1"))
        assert.strictEqual(retry.status, 200)
        assert.isUndefined(retry.headers["idempotent-replayed"])
      })
    )

    it.scoped("hang: the sandbox never answers, so the client's own abort fires", () =>
      Effect.gen(function* () {
        const { cancelUrl, cancel, status, lastCall } = yield* withIntent({ faults: { default: { hang_rate: 1 } } })
        const error = yield* failure(cancelUrl, { ...cancel(), abortAfterMs: 200 })
        assert.strictEqual(error.name, "AbortError")
        assert.strictEqual(yield* status, "requires_capture")
        const call = yield* lastCall
        assert.strictEqual(call.status, null)
        assert.strictEqual(call.fault, "hang")
      })
    )

    it.effect("hang: closing the sandbox releases the hanging connection", () =>
      Effect.gen(function* () {
        const scope = yield* Scope.make()
        const sandbox = yield* Sandbox.start({ faults: { default: { hang_rate: 1 } } }).pipe(Scope.extend(scope))
        const pending = send(`${sandbox.url}/v1/payment_intents`, { key: sandbox.apiKey }).then(
          () => "answered",
          (error: NodeJS.ErrnoException) => error.code ?? error.message
        )
        // Wait until the sandbox holds the request, then stop it.
        while ((yield* sandbox.calls).length === 0) yield* Effect.promise(() => new Promise((r) => setTimeout(r, 5)))
        yield* Scope.close(scope, Exit.void)
        const outcome = yield* Effect.promise(() => pending)
        assert.include(["ECONNRESET", "socket hang up"], outcome)
      })
    )

    it.scoped("malformed_json: a 200 whose JSON body is cut short, after the cancel was applied", () =>
      Effect.gen(function* () {
        const { sandbox, id, cancelUrl, cancel, status, lastCall } = yield* withIntent({
          faults: { default: { malformed_rate: 1 } }
        })
        const res = yield* request(cancelUrl, cancel("malformed-1"))
        assert.strictEqual(res.status, 200)
        assert.strictEqual(res.headers["content-type"], "application/json")
        assert.isTrue(res.body.startsWith('{"payment_intent":{'))
        assert.isFalse(parses(res.body))
        assert.strictEqual(yield* status, "canceled")
        assert.strictEqual((yield* lastCall).fault, "malformed_json")
        // The whole response was stored: the retry gets it intact.
        yield* sandbox.setFaults("none")
        const retry = yield* request(cancelUrl, cancel("malformed-1"))
        assert.strictEqual(decodeEnvelope(JSON.parse(retry.body)).payment_intent.payment_intent_id, id)
        assert.isTrue(retry.body.startsWith(res.body))
        // A list is cut short too.
        yield* sandbox.setFaults({ list: { malformed_rate: 1 } })
        const list = yield* request(`${sandbox.url}/v1/payment_intents`, { key: sandbox.apiKey })
        assert.strictEqual(list.status, 200)
        assert.isFalse(parses(list.body))
      })
    )

    it.scoped("html_502: a proxy's HTML page with status 502, before anything was executed", () =>
      Effect.gen(function* () {
        const { cancelUrl, cancel, status, lastCall } = yield* withIntent({ faults: { default: { html_502_rate: 1 } } })
        const res = yield* request(cancelUrl, cancel())
        assert.strictEqual(res.status, 502)
        assert.match(String(res.headers["content-type"]), /^text\/html/)
        assert.include(res.body, "<title>502 Bad Gateway</title>")
        assert.isFalse(parses(res.body))
        assert.strictEqual(yield* status, "requires_capture")
        const call = yield* lastCall
        assert.strictEqual(call.status, 502)
        assert.strictEqual(call.fault, "html_502")
      })
    )

    it.scoped("server_error: 500, 502 and 503 with Flex's error body, not executed and not stored", () =>
      Effect.gen(function* () {
        const { sandbox, cancelUrl, cancel, status } = yield* withIntent({ faults: { default: { error_rate: 1 } } })
        const statuses = new Set<number>()
        for (let i = 0; i < 30; i++) {
          const res = yield* request(cancelUrl, cancel("error-1"))
          statuses.add(res.status)
          assert.strictEqual(res.headers["content-type"], "application/json")
          assert.isString(decodeError(JSON.parse(res.body)).error.code)
        }
        assert.deepStrictEqual([...statuses].sort(), [500, 502, 503])
        assert.strictEqual(yield* status, "requires_capture")
        assert.isTrue((yield* sandbox.calls).every((call) => call.fault === "server_error"))
        yield* sandbox.setFaults({ default: { error_rate: 1, error_statuses: [503] } })
        assert.strictEqual((yield* request(cancelUrl, cancel("error-1"))).status, 503)
        yield* sandbox.setFaults("none")
        const retry = yield* request(cancelUrl, cancel("error-1"))
        assert.strictEqual(retry.status, 200)
        assert.isUndefined(retry.headers["idempotent-replayed"])
      })
    )

    it.scoped("rate_limit: a token bucket answers 429 with Retry-After in whole seconds, never stored", () =>
      Effect.gen(function* () {
        // One token, refilled every 100 s: the second request finds the bucket empty.
        const { sandbox, cancelUrl, cancel, status, lastCall } = yield* withIntent({ rateLimit: 0.01 })
        const [other] = yield* sandbox.createIntents([{ status: "requires_capture" }])
        const first = yield* request(`${sandbox.url}/v1/payment_intents/${other!.payment_intent_id}`, {
          key: sandbox.apiKey
        })
        assert.strictEqual(first.status, 200)
        const limited = yield* request(cancelUrl, cancel("limited-1"))
        assert.strictEqual(limited.status, 429)
        assert.match(String(limited.headers["retry-after"]), /^\d+$/)
        assert.isAtLeast(Number(limited.headers["retry-after"]), 1)
        assert.strictEqual(decodeError(JSON.parse(limited.body)).error.code, "rate_limit")
        assert.strictEqual((yield* lastCall).fault, "rate_limit")
        assert.strictEqual(yield* status, "requires_capture")
        // The admin API is not limited.
        const admin = yield* request(`${sandbox.url}/_sandbox/calls`, { key: sandbox.apiKey })
        assert.strictEqual(admin.status, 200)
        // A 401 does not take a token, and a 429 is not stored: once the limit is lifted the retry runs.
        assert.strictEqual((yield* request(cancelUrl, { method: "POST" })).status, 401)
        yield* sandbox.setFaults({})
        const retry = yield* request(cancelUrl, cancel("limited-1"))
        assert.strictEqual(retry.status, 200)
        assert.isUndefined(retry.headers["idempotent-replayed"])
        assert.strictEqual(yield* status, "canceled")
      })
    )

    it.scoped("rate_limit: a burst lets that many requests through at once", () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox.start({ faults: { rate_limit: { requests_per_second: 0.01, burst: 3 } } })
        const statuses: Array<number> = []
        for (let i = 0; i < 5; i++) {
          statuses.push((yield* request(`${sandbox.url}/v1/payment_intents`, { key: sandbox.apiKey })).status)
        }
        assert.deepStrictEqual(statuses, [200, 200, 200, 429, 429])
      })
    )

    it.scoped("commit_then_drop: the intent is canceled though the client saw a reset; the retry replays the 200", () =>
      Effect.gen(function* () {
        const { sandbox, id, cancelUrl, cancel, status, lastCall } = yield* withIntent({
          faults: { cancel: { commit_then_drop_rate: 1 } }
        })
        const error = yield* failure(cancelUrl, cancel("ctd-1"))
        assert.strictEqual(error.code, "ECONNRESET")
        assert.strictEqual(yield* status, "canceled")
        assert.strictEqual(Option.getOrThrow(yield* sandbox.released(id)), 6100)
        const call = yield* lastCall
        assert.strictEqual(call.status, null)
        assert.strictEqual(call.fault, "commit_then_drop")
        yield* sandbox.setFaults("none")
        const retry = yield* request(cancelUrl, cancel("ctd-1"))
        assert.strictEqual(retry.status, 200)
        assert.strictEqual(retry.headers["idempotent-replayed"], "true")
        const intent = decodeEnvelope(JSON.parse(retry.body)).payment_intent
        assert.strictEqual(intent.status, "canceled")
        assert.strictEqual(intent.amount_capturable, 0)
        // Without the key, a second cancel meets the canceled intent.
        assert.strictEqual((yield* request(cancelUrl, cancel())).status, 400)
        assert.strictEqual((yield* sandbox.releases).length, 1)
      })
    )

    it.scoped("applies each endpoint's settings to that endpoint only", () =>
      Effect.gen(function* () {
        const { sandbox, id, cancelUrl, cancel, status } = yield* withIntent({
          faults: {
            default: { reset_rate: 1 },
            retrieve: { reset_rate: 0 },
            cancel: { reset_rate: 0, html_502_rate: 1 }
          }
        })
        const retrieve = yield* request(`${sandbox.url}/v1/payment_intents/${id}`, { key: sandbox.apiKey })
        assert.strictEqual(retrieve.status, 200)
        const list = yield* failure(`${sandbox.url}/v1/payment_intents`, { key: sandbox.apiKey })
        assert.strictEqual(list.code, "ECONNRESET")
        assert.strictEqual((yield* request(cancelUrl, cancel())).status, 502)
        assert.strictEqual(yield* status, "requires_capture")
      })
    )

    it.scoped("latency delays answers without changing them", () =>
      Effect.gen(function* () {
        const { sandbox, cancelUrl, cancel, status } = yield* withIntent({
          faults: { default: { latency: { min_ms: 20, max_ms: 40 } } }
        })
        const res = yield* request(cancelUrl, cancel())
        assert.strictEqual(res.status, 200)
        assert.strictEqual(yield* status, "canceled")
        assert.strictEqual((yield* sandbox.calls)[0]!.fault, null)
      })
    )

    it.scoped("the same seed replays the same fault sequence; another seed gives another", () =>
      Effect.gen(function* () {
        const profile: FaultProfile.FaultProfile = {
          default: { reset_rate: 0.12, hang_rate: 0.1, html_502_rate: 0.12, error_rate: 0.12, malformed_rate: 0.12 },
          cancel: { commit_then_drop_rate: 0.12 }
        }
        const run = (seed: number) =>
          Effect.gen(function* () {
            const sandbox = yield* Sandbox.start({ seed, intents: 20, faults: profile })
            const intents = yield* sandbox.intents
            for (let i = 0; i < 40; i++) {
              const intent = intents[i % intents.length]!
              const path =
                i % 2 === 0
                  ? `/v1/payment_intents/${intent.payment_intent_id}`
                  : `/v1/payment_intents/${intent.payment_intent_id}/cancel`
              yield* Effect.promise(() =>
                send(`${sandbox.url}${path}`, {
                  method: i % 2 === 0 ? "GET" : "POST",
                  key: sandbox.apiKey,
                  abortAfterMs: 250
                }).catch(() => undefined)
              )
            }
            const calls = yield* sandbox.calls
            return calls.map(({ method, path, status, fault }) => `${method} ${path} ${status} ${fault}`)
          })
        const first = yield* run(5)
        const second = yield* run(5)
        const other = yield* run(6)
        assert.strictEqual(first.length, 40)
        assert.deepStrictEqual(second, first)
        const faultsOf = (lines: ReadonlyArray<string>) => lines.map((line) => line.split(" ")[3])
        assert.notDeepEqual(faultsOf(other), faultsOf(first))
        // The sequence is a real mix of every drawn fault, so the comparison means something.
        assert.deepStrictEqual([...new Set(faultsOf(first))].sort(), [
          "commit_then_drop",
          "hang",
          "html_502",
          "malformed_json",
          "null",
          "reset",
          "server_error"
        ])
      })
    )
  })
})
