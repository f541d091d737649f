/** Child processes of the cases: start one, wait for its "listening on URL" line, stop it. */
import { type ChildProcess, spawn } from "node:child_process"

export interface Listening {
  readonly child: ChildProcess
  readonly url: URL
}

/** Spawns `node args…` (with `env` added) and resolves once its first stdout line is `listening on URL`. */
export const spawnListening = (
  args: ReadonlyArray<string>,
  name: string,
  env: Record<string, string> = {}
): Promise<Listening> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } })
    // Its stderr goes on to ours, except the line a worker prints when it is stopped on purpose and the
    // known warning of `pg` about its lock connection (client.query() while a query is queued, deprecated in pg 8).
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      const shown = chunk
        .split("\n")
        .filter(
          (line) =>
            line !== "" && !/interrupted \(SIGTERM\)|client\.query\(\) when the client|--trace-deprecation/.test(line)
        )
        .join("\n")
      if (shown !== "") process.stderr.write(`${shown}\n`)
    })
    let out = ""
    const onData = (chunk: string) => {
      out += chunk
      if (!out.includes("\n")) return
      child.stdout!.off("data", onData)
      child.stdout!.resume()
      const match = /^listening on (http:\/\/\S+)/.exec(out.split("\n")[0]!)
      if (match === null) reject(new Error(`${name} said: ${out.split("\n")[0]}`))
      else resolve({ child, url: new URL(match[1]!) })
    }
    child.stdout!.setEncoding("utf8").on("data", onData)
    child.on("error", reject)
    child.on("exit", (code) => reject(new Error(`${name} exited with ${code} before listening`)))
  })

/** SIGTERM, then waits for the exit (SIGKILL after 5 s). */
export const stop = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000)
    child.once("exit", () => {
      clearTimeout(timer)
      resolve()
    })
    child.kill("SIGTERM")
  })
