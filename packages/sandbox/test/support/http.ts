import * as Http from "node:http"
import * as Effect from "effect/Effect"

export interface Response {
  readonly status: number
  readonly headers: Http.IncomingHttpHeaders
  readonly body: string
}

export interface RequestOptions {
  readonly method?: string
  readonly key?: string | null
  readonly headers?: Record<string, string>
  readonly body?: unknown
  /** The client's own timeout: aborts the request after this many milliseconds. */
  readonly abortAfterMs?: number
}

/**
 * One request on a fresh connection (no agent), so a reset or a hang never leaks into the next
 * request. Rejects with the socket error (`ECONNRESET`, an abort) when no response arrives.
 */
export const send = (url: string, options: RequestOptions = {}): Promise<Response> =>
  new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...options.headers }
    if (options.key !== null && options.key !== undefined) headers.authorization = `Bearer ${options.key}`
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body)
    if (payload !== undefined) headers["content-type"] = "application/json"
    const req = Http.request(
      url,
      {
        method: options.method ?? "GET",
        headers,
        agent: false,
        ...(options.abortAfterMs === undefined ? {} : { signal: AbortSignal.timeout(options.abortAfterMs) })
      },
      (res) => {
        const chunks: Array<Buffer> = []
        res.on("data", (chunk: Buffer) => chunks.push(chunk))
        res.on("error", reject)
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") })
        )
      }
    )
    req.on("error", reject)
    req.end(payload)
  })

/** {@link send} as an Effect; a transport failure is a defect, for tests that expect a response. */
export const request = (url: string, options?: RequestOptions): Effect.Effect<Response> =>
  Effect.promise(() => send(url, options))

/** The error a request failed with, for tests that expect no response. */
export const failure = (url: string, options?: RequestOptions): Effect.Effect<NodeJS.ErrnoException> =>
  Effect.promise(() =>
    send(url, options).then(
      (response) => {
        throw new Error(`expected no response, got ${response.status}`)
      },
      (error: NodeJS.ErrnoException) => error
    )
  )
