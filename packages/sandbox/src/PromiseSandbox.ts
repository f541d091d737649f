/**
 * The sandbox for any test runner: `await startSandbox(options)` starts one, `await sandbox.close()`
 * stops it, and every admin function is a plain async function. Nothing to know about Effect: no scope,
 * no runtime; intents come back in their wire form (`PaymentIntent.Json` of `@flex/domain`, exactly the
 * JSON the API serves), and a failure rejects with the `SandboxError` itself.
 *
 * It is the Effect sandbox ({@link Sandbox.start}) behind a promise face: same server, same state, same
 * options.
 *
 * @example
 * ```ts
 * import { startSandbox } from "@flex/sandbox"
 *
 * const sandbox = await startSandbox({ seed: 7 })
 * const [hold] = await sandbox.createIntents([{ status: "requires_capture", amount: 5000 }])
 * await fetch(`${sandbox.url}/v1/payment_intents/${hold!.payment_intent_id}/cancel`, {
 *   method: "POST",
 *   headers: { authorization: `Bearer ${sandbox.apiKey}` }
 * })
 * console.log((await sandbox.intent(hold!.payment_intent_id))?.status) // "canceled"
 * console.log(await sandbox.released(hold!.payment_intent_id)) // 5000
 * await sandbox.close()
 * ```
 *
 * @since 0.1.0
 */
import * as PaymentIntent from "@flex/domain/PaymentIntent"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import type * as Call from "./Call.js"
import type * as FaultProfile from "./FaultProfile.js"
import * as Sandbox from "./Sandbox.js"
import type * as Webhook from "./Webhook.js"

/**
 * A running sandbox, with async admin functions.
 *
 * @category models
 * @since 0.1.0
 */
export interface RunningSandbox {
  /** The base URL, e.g. `http://127.0.0.1:52731`; the API is under `/v1`, the admin API under `/_sandbox`. */
  readonly url: string
  readonly host: string
  readonly port: number
  /** A key the sandbox accepts: the pinned `apiKey`, else `fsk_test_sandbox`. */
  readonly apiKey: string
  /** `{ baseUrl, apiKey }`: `new Flex(sandbox.clientOptions)` (`@flex/http/promise`) calls this sandbox. */
  readonly clientOptions: Sandbox.ClientOptions
  /** Creates intents (all or none) and returns them in their wire form; rejects with a `SandboxError`. */
  readonly createIntents: (specs: ReadonlyArray<Sandbox.IntentSpec>) => Promise<ReadonlyArray<PaymentIntent.Json>>
  /** One intent as it is now, whatever the faults; `undefined` if there is none. */
  readonly intent: (id: string) => Promise<PaymentIntent.Json | undefined>
  /** Every intent, newest first. */
  readonly intents: () => Promise<ReadonlyArray<PaymentIntent.Json>>
  /** The public API's requests, in arrival order. */
  readonly calls: () => Promise<ReadonlyArray<Call.Call>>
  /** The current fault profile. */
  readonly faults: () => Promise<FaultProfile.FaultProfile>
  /** Replaces the fault profile (a profile or a preset name); the fault sequence carries on. */
  readonly setFaults: (profile: FaultProfile.Input) => Promise<void>
  /** What the sandbox's cancel of this intent released, in cents; `undefined` if it never canceled it. */
  readonly released: (id: string) => Promise<number | undefined>
  /** Every cancel's release, in order. */
  readonly releases: () => Promise<ReadonlyArray<Sandbox.Release>>
  /** From now on requests are received and logged but answered only on {@link release}. */
  readonly hold: () => Promise<void>
  /** Answers every held request and stops holding. */
  readonly release: () => Promise<void>
  /** How many requests are held now. */
  readonly held: () => Promise<number>
  /** Back to the start: seeded intents, initial faults and fault sequence, empty call log, no keys. */
  readonly reset: () => Promise<void>
  /**
   * The admin transition to `succeeded`, in wire form; emits `payment_intent.succeeded`, then
   * `invoice.payment_succeeded`. Rejects with a `SandboxError` for an unknown ID or a terminal status.
   */
  readonly succeedIntent: (id: string) => Promise<PaymentIntent.Json>
  /** Registers a webhook endpoint; `events` omitted, empty or `["*"]`: every event. */
  readonly registerWebhook: (input: Webhook.EndpointInput) => Promise<Webhook.Endpoint>
  /** The registered endpoints, in registration order. */
  readonly webhooks: () => Promise<ReadonlyArray<Webhook.Endpoint>>
  /** Every event emitted (only while an endpoint was registered), in order, as delivered. */
  readonly events: () => Promise<ReadonlyArray<Webhook.Event>>
  /** Every delivery attempt, in the order they ended. */
  readonly deliveries: () => Promise<ReadonlyArray<Webhook.Delivery>>
  /** Sends an event again, same `event_id`, to every endpoint now subscribed; resolves with their IDs. */
  readonly redeliver: (eventId: string) => Promise<ReadonlyArray<string>>
  /** Stops listening and drops hanging connections. Calling it again does nothing. */
  readonly close: () => Promise<void>
  /** The Effect handle of the same sandbox, for code that mixes both. */
  readonly handle: Sandbox.SandboxHandle
}

const encode = Schema.encodeSync(PaymentIntent.PaymentIntent)
const encodeIntent = (intent: PaymentIntent.PaymentIntent): PaymentIntent.Json => encode(intent)

/** Runs an admin effect and settles with its value, or rejects with its error itself (not a wrapper). */
const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> =>
  Effect.runPromiseExit(effect).then((exit) => {
    if (Exit.isSuccess(exit)) return exit.value
    const failure = Cause.failureOption(exit.cause)
    throw Option.isSome(failure) ? failure.value : Cause.squash(exit.cause)
  })

/**
 * Starts a sandbox on `127.0.0.1` and a free port (by default) and resolves once it listens; rejects
 * with a `SandboxError` for invalid options or a port in use. Stop it with `close()`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const startSandbox = async (options: Sandbox.SandboxOptions = {}): Promise<RunningSandbox> => {
  const scope = Effect.runSync(Scope.make())
  const handle = await run(Scope.extend(Sandbox.start(options), scope)).catch(async (error: unknown) => {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    throw error
  })
  let closing: Promise<void> | undefined
  return {
    url: handle.url,
    host: handle.host,
    port: handle.port,
    apiKey: handle.apiKey,
    clientOptions: handle.clientOptions,
    handle,
    createIntents: (specs) => run(Effect.map(handle.createIntents(specs), (intents) => intents.map(encodeIntent))),
    intent: (id) =>
      run(Effect.map(handle.intent(id), (found) => Option.getOrUndefined(Option.map(found, encodeIntent)))),
    intents: () => run(Effect.map(handle.intents, (intents) => intents.map(encodeIntent))),
    calls: () => run(handle.calls),
    faults: () => run(handle.faults),
    setFaults: (profile) => run(handle.setFaults(profile)),
    released: (id) => run(Effect.map(handle.released(id), Option.getOrUndefined)),
    releases: () => run(handle.releases),
    hold: () => run(handle.hold),
    release: () => run(handle.release),
    held: () => run(handle.held),
    reset: () => run(handle.reset),
    succeedIntent: (id) => run(Effect.map(handle.succeedIntent(id), encodeIntent)),
    registerWebhook: (input) => run(handle.registerWebhook(input)),
    webhooks: () => run(handle.webhooks),
    events: () => run(handle.events),
    deliveries: () => run(handle.deliveries),
    redeliver: (eventId) => run(handle.redeliver(eventId)),
    close: () => {
      closing ??= Effect.runPromise(Scope.close(scope, Exit.void))
      return closing
    }
  }
}
