/**
 * Case 2, client: one cancel call (`POST /v1/payment_intents/{id}/cancel` with a key and an
 * idempotency key) against a loopback server in its own process that always answers the realistic
 * cancel response (`loopback-server.ts`). Four clients, side by side:
 *
 * - `raw_undici`: `undici.request` + `JSON.parse`, no validation: the floor;
 * - `fetch_zod`: global `fetch` + `res.json()` + the zod schema's `parse`: a hand-rolled client;
 * - `flex_undici`: `FlexClient` on `NodeHttpClient.layerUndici` (what the worker uses);
 * - `flex_fetch`: `FlexClient` on `FetchHttpClient.layer`.
 *
 * Two more rows say where `FlexClient`'s time goes: `effect_undici`, the bare Effect `HttpClient` on
 * undici (`execute`, `text`, `JSON.parse`: the platform's own cost, before anything of ours), and
 * `flex_undici_untraced`, `FlexClient` on undici with the tracer off (`Effect.withTracerEnabled(false)`).
 *
 * Each round runs every client in turn, sequentially and then with 16 requests in flight; the figures
 * are medians over the rounds (req/s, and per-round p50/p99 of the per-request latency).
 */
import { FetchHttpClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { FlexClient } from "@flex/http"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import { Agent, request } from "undici"
import { spawnListening, stop } from "./child.js"
import * as ZodSchemas from "./schemas/zod.js"
import { consume, median, percentile } from "./stats.js"

export interface ClientOptions {
  readonly rounds: number
  /** Requests per round, sequential. */
  readonly sequential: number
  /** Requests per round with `concurrency` in flight. */
  readonly concurrent: number
  readonly concurrency: number
  /** Untimed requests per client before the first round (half sequential, half concurrent). */
  readonly warmup: number
}

export interface ModeFigures {
  readonly rps: number
  /** Mean time per request (1 / rps), µs. */
  readonly us: number
  readonly p50_ms: number
  readonly p99_ms: number
}

export interface ClientFigures {
  readonly name: string
  readonly sequential: ModeFigures
  readonly concurrent: ModeFigures
}

export interface ClientResult {
  readonly clients: ReadonlyArray<ClientFigures>
  readonly concurrency: number
}

interface Run {
  readonly latencies: Array<number>
  readonly seconds: number
}

interface Candidate {
  readonly name: string
  /** Sends `n` requests with `concurrency` in flight; per-request latencies in ms. */
  readonly run: (n: number, concurrency: number) => Promise<Run>
  readonly close: () => Promise<void>
}

const apiKey = "fsk_test_bench"
const intentId = "fpi_01J9M9S346Q3D25VT4F5V37E3S"

const promiseLoop = async (n: number, concurrency: number, one: (i: number) => Promise<unknown>): Promise<Run> => {
  const latencies: Array<number> = []
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < n; i = next++) {
        const t = performance.now()
        consume(await one(i))
        latencies.push(performance.now() - t)
      }
    })
  )
  return { latencies, seconds: (performance.now() - started) / 1000 }
}

const headersFor = (i: number) => ({
  authorization: `Bearer ${apiKey}`,
  accept: "application/json",
  "user-agent": "flex-bench",
  "idempotency-key": `bench-${i}`
})

const rawUndici = (url: URL): Candidate => {
  const dispatcher = new Agent({ keepAliveTimeout: 60_000 })
  const target = new URL(`/v1/payment_intents/${intentId}/cancel`, url).href
  return {
    name: "raw_undici",
    run: (n, concurrency) =>
      promiseLoop(n, concurrency, async (i) => {
        const res = await request(target, { method: "POST", headers: headersFor(i), dispatcher })
        const text = await res.body.text()
        if (res.statusCode !== 200) throw new Error(`raw undici: status ${res.statusCode}`)
        return JSON.parse(text)
      }),
    close: () => dispatcher.close()
  }
}

const fetchZod = (url: URL): Candidate => {
  const target = new URL(`/v1/payment_intents/${intentId}/cancel`, url).href
  return {
    name: "fetch_zod",
    run: (n, concurrency) =>
      promiseLoop(n, concurrency, async (i) => {
        const res = await fetch(target, { method: "POST", headers: headersFor(i) })
        if (!res.ok) throw new Error(`fetch: status ${res.status}`)
        return ZodSchemas.Envelope.parse(await res.json()).payment_intent
      }),
    close: async () => {}
  }
}

const effectLoop = <R>(
  runtime: ManagedRuntime.ManagedRuntime<R, never>,
  n: number,
  concurrency: number,
  one: (i: number) => Effect.Effect<unknown, unknown, R>,
  traced = true
): Promise<Run> =>
  runtime.runPromise(
    Effect.suspend(() => {
      const latencies: Array<number> = []
      const started = performance.now()
      return Effect.forEach(
        Array.from({ length: n }, (_, i) => i),
        (i) =>
          Effect.suspend(() => {
            const t = performance.now()
            return Effect.map(one(i), (value) => {
              consume(value)
              latencies.push(performance.now() - t)
            })
          }),
        { concurrency, discard: true }
      ).pipe(
        Effect.as({ latencies, seconds: 0 }),
        Effect.map((run) => ({ ...run, seconds: (performance.now() - started) / 1000 }))
      )
    }).pipe(Effect.withTracerEnabled(traced))
  )

const effectUndici = (url: URL): Candidate => {
  const runtime = ManagedRuntime.make(NodeHttpClient.layerUndici)
  const target = new URL(`/v1/payment_intents/${intentId}/cancel`, url).href
  return {
    name: "effect_undici",
    run: (n, concurrency) =>
      effectLoop(runtime, n, concurrency, (i) =>
        Effect.flatMap(HttpClient.HttpClient, (client) =>
          Effect.flatMap(client.execute(HttpClientRequest.post(target, { headers: headersFor(i) })), (res) => res.text)
        ).pipe(Effect.map((text) => JSON.parse(text)))
      ),
    close: () => runtime.dispose()
  }
}

const flex = (
  name: string,
  url: URL,
  http: Layer.Layer<import("@effect/platform/HttpClient").HttpClient>,
  traced = true
): Candidate => {
  const runtime = ManagedRuntime.make(
    FlexClient.layer({ apiKey: Redacted.make(apiKey), baseUrl: url }).pipe(Layer.provide(http))
  )
  return {
    name,
    run: (n, concurrency) =>
      effectLoop(
        runtime,
        n,
        concurrency,
        (i) =>
          Effect.flatMap(FlexClient.FlexClient, (client) =>
            client.paymentIntents.cancel(intentId, { idempotencyKey: `bench-${i}` })
          ),
        traced
      ),
    close: () => runtime.dispose()
  }
}

const figures = (runs: ReadonlyArray<Run>): ModeFigures => {
  const rps = median(runs.map((run) => run.latencies.length / run.seconds))
  return {
    rps,
    us: 1e6 / rps,
    p50_ms: median(runs.map((run) => percentile(run.latencies, 50))),
    p99_ms: median(runs.map((run) => percentile(run.latencies, 99)))
  }
}

export const runClientBench = async (options: ClientOptions): Promise<ClientResult> => {
  const server = await spawnListening(
    ["--import", "tsx", new URL("./loopback-server.ts", import.meta.url).pathname],
    "loopback server"
  )
  const candidates = [
    rawUndici(server.url),
    fetchZod(server.url),
    flex("flex_undici", server.url, NodeHttpClient.layerUndici),
    flex("flex_fetch", server.url, FetchHttpClient.layer),
    effectUndici(server.url),
    flex("flex_undici_untraced", server.url, NodeHttpClient.layerUndici, false)
  ]
  try {
    for (const candidate of candidates) {
      await candidate.run(Math.ceil(options.warmup / 2), 1)
      await candidate.run(Math.ceil(options.warmup / 2), options.concurrency)
    }
    const sequential = candidates.map(() => [] as Array<Run>)
    const concurrent = candidates.map(() => [] as Array<Run>)
    for (let round = 0; round < options.rounds; round++) {
      for (let k = 0; k < candidates.length; k++) {
        const i = (k + round) % candidates.length
        sequential[i]!.push(await candidates[i]!.run(options.sequential, 1))
        concurrent[i]!.push(await candidates[i]!.run(options.concurrent, options.concurrency))
      }
    }
    return {
      concurrency: options.concurrency,
      clients: candidates.map((candidate, i) => ({
        name: candidate.name,
        sequential: figures(sequential[i]!),
        concurrent: figures(concurrent[i]!)
      }))
    }
  } finally {
    for (const candidate of candidates) await candidate.close()
    await stop(server.child)
  }
}
