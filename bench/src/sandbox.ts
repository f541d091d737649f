/**
 * Throughput of `@flex/sandbox` without faults: the sandbox must never be the bottleneck of the other
 * benchmarks (the goal is at least 5,000 requests/s on loopback on a 2-core machine).
 *
 * The sandbox runs as its own process (`flex-sandbox`, from the built package), so it and this client
 * each get a core. The client keeps 32 requests in flight on keep-alive connections, first on
 * `GET /v1/payment_intents/{id}`, then on `POST /v1/payment_intents/{id}/cancel` of fresh
 * `requires_capture` intents, each with its own `Idempotency-Key` as a real client sends.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as Http from "node:http"
import { sandboxBinPath } from "./bins.js"

export interface SandboxBenchOptions {
  /** Measured time per phase. Default 5 s. */
  readonly durationMs?: number
  /** Requests in flight. Default 32. */
  readonly concurrency?: number
  /** Print progress and results. Default true. */
  readonly log?: boolean
}

export interface SandboxBenchResult {
  /** The lower of the two phases: what the sandbox sustains for either endpoint. */
  readonly rps: number
  readonly getRps: number
  readonly cancelRps: number
}

interface Target {
  readonly host: string
  readonly port: number
  readonly agent: Http.Agent
}

const key = "fsk_test_bench"

const startSandbox = (): Promise<{ readonly child: ChildProcess; readonly url: URL }> =>
  new Promise((resolve, reject) => {
    const bin = sandboxBinPath()
    const child = spawn(process.execPath, [bin, "--port", "0", "--seed", "1", "--intents", "200"], {
      stdio: ["ignore", "pipe", "inherit"]
    })
    let out = ""
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk
      const line = out.split("\n")[0]!
      if (out.includes("\n")) {
        const match = /^listening on (http:\/\/\S+)$/.exec(line)
        if (match === null) reject(new Error(`flex-sandbox said: ${line}`))
        else resolve({ child, url: new URL(match[1]!) })
      }
    })
    child.on("exit", (code) => reject(new Error(`flex-sandbox exited with ${code} before listening`)))
  })

const call = (
  target: Target,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string
): Promise<{ readonly status: number; readonly body: string }> =>
  new Promise((resolve, reject) => {
    const req = Http.request(
      {
        host: target.host,
        port: target.port,
        agent: target.agent,
        method,
        path,
        headers: { authorization: `Bearer ${key}`, ...headers }
      },
      (res) => {
        let text = ""
        res.setEncoding("utf8")
        res.on("data", (chunk: string) => {
          text += chunk
        })
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }))
        res.on("error", reject)
      }
    )
    req.on("error", reject)
    req.end(body)
  })

/** Runs `concurrency` loops until the deadline or until `next` runs dry; every answer must be a 200. */
const hammer = async (
  target: Target,
  durationMs: number,
  concurrency: number,
  next: () => { readonly method: string; readonly path: string; readonly headers?: Record<string, string> } | undefined
): Promise<{ readonly requests: number; readonly seconds: number }> => {
  const started = performance.now()
  const deadline = started + durationMs
  let requests = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const request = next()
        if (request === undefined) return
        const { status } = await call(target, request.method, request.path, request.headers)
        if (status !== 200) throw new Error(`${request.method} ${request.path} answered ${status}`)
        requests++
      }
    })
  )
  return { requests, seconds: (performance.now() - started) / 1000 }
}

const createIntents = async (target: Target, count: number): Promise<Array<string>> => {
  const ids: Array<string> = []
  while (ids.length < count) {
    const batch = Math.min(5000, count - ids.length)
    const body = JSON.stringify({
      payment_intents: Array.from({ length: batch }, () => ({ status: "requires_capture" }))
    })
    const res = await call(target, "POST", "/_sandbox/payment_intents", { "content-type": "application/json" }, body)
    if (res.status !== 201) throw new Error(`creating intents answered ${res.status}: ${res.body.slice(0, 200)}`)
    const created = JSON.parse(res.body) as { payment_intents: Array<{ payment_intent_id: string }> }
    for (const intent of created.payment_intents) ids.push(intent.payment_intent_id)
  }
  return ids
}

const format = (n: number) => Math.round(n).toLocaleString("en-US")

/** Measures the sandbox's GET and cancel throughput; see the module comment. */
export const runSandboxBench = async (options: SandboxBenchOptions = {}): Promise<SandboxBenchResult> => {
  const durationMs = options.durationMs ?? 5000
  const concurrency = options.concurrency ?? 32
  const log = options.log === false ? () => {} : (line: string) => console.log(line)
  const { child, url } = await startSandbox()
  const agent = new Http.Agent({ keepAlive: true, maxSockets: concurrency })
  const target: Target = { host: url.hostname, port: Number(url.port), agent }
  try {
    const seeded = await call(target, "GET", "/v1/payment_intents?limit=100")
    const ids = (
      JSON.parse(seeded.body) as { payment_intents: Array<{ payment_intent_id: string }> }
    ).payment_intents.map((intent) => intent.payment_intent_id)
    let i = 0
    const nextGet = () => ({ method: "GET", path: `/v1/payment_intents/${ids[i++ % ids.length]}` })
    await hammer(target, 1000, concurrency, nextGet) // warm-up: JIT and connections
    const get = await hammer(target, durationMs, concurrency, nextGet)
    const getRps = get.requests / get.seconds
    log(
      `sandbox GET /v1/payment_intents/{id}: ${format(getRps)} req/s (${format(get.requests)} in ${get.seconds.toFixed(1)} s, ${concurrency} in flight)`
    )

    // Fresh intents for the cancel phase, created before its clock starts. A cancel costs more than a
    // read, so the GET rate bounds what the phase can use; should it run out, it ends early and its
    // rate is still measured over the time it ran.
    const fresh = await createIntents(target, Math.min(200_000, Math.ceil(getRps * (durationMs / 1000)) + 1000))
    let j = 0
    const nextCancel = () => {
      const id = fresh[j++]
      return id === undefined
        ? undefined
        : { method: "POST", path: `/v1/payment_intents/${id}/cancel`, headers: { "idempotency-key": `bench-${id}` } }
    }
    await hammer(target, 500, concurrency, nextCancel)
    const cancel = await hammer(target, durationMs, concurrency, nextCancel)
    const cancelRps = cancel.requests / cancel.seconds
    log(
      `sandbox POST /v1/payment_intents/{id}/cancel: ${format(cancelRps)} req/s (${format(cancel.requests)} in ${cancel.seconds.toFixed(1)} s, ${concurrency} in flight)`
    )
    if (j > fresh.length) log(`(the cancel phase used all ${format(fresh.length)} fresh intents before its deadline)`)
    return { rps: Math.min(getRps, cancelRps), getRps, cancelRps }
  } finally {
    agent.destroy()
    child.kill("SIGTERM")
  }
}
