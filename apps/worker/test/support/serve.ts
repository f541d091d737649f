/**
 * `flex-worker serve` as a child process: started, waited for (its first stdout line is
 * `listening on http://HOST:PORT`), and stopped with the test's scope.
 */
import { Effect } from "effect"
import * as Cli from "./cli.js"

export const token = "test-token-0123456789abcdef"

export interface Server {
  readonly url: string
  readonly child: ReturnType<typeof Cli.start>["child"]
  readonly done: Promise<Cli.Result>
  readonly output: () => { stdout: string; stderr: string }
  readonly request: (
    path: string,
    init?: RequestInit & { auth?: boolean }
  ) => Promise<{ status: number; body: any; text: string }>
}

export const start = (args: ReadonlyArray<string>, env: Record<string, string | undefined>) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const run = Cli.start(["serve", "--listen", "127.0.0.1:0", ...args], { FLEX_WORKER_API_TOKEN: token, ...env })
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`serve did not start: ${run.output().stderr}`)), 30_000)
        const check = () => {
          const match = /listening on (http:\/\/\S+)/.exec(run.output().stdout)
          if (match) {
            clearTimeout(timer)
            resolve(match[1]!)
          }
        }
        run.child.stdout!.on("data", check)
        run.done.then((r) => reject(new Error(`serve exited ${r.code}: ${r.stderr}`)))
      })
      const request: Server["request"] = async (path, init = {}) => {
        const { auth = true, ...rest } = init
        const response = await fetch(`${url}${path}`, {
          ...rest,
          headers: {
            ...(auth ? { authorization: `Bearer ${token}` } : {}),
            "content-type": "application/json",
            ...rest.headers
          }
        })
        const text = await response.text()
        let body: any
        try {
          body = JSON.parse(text)
        } catch {
          body = undefined
        }
        return { status: response.status, body, text }
      }
      return { url, child: run.child, done: run.done, output: run.output, request } satisfies Server
    }),
    (server) =>
      Effect.promise(async () => {
        if (server.child.exitCode === null && server.child.signalCode === null) {
          server.child.kill("SIGTERM")
          await server.done
        }
      })
  )
