/**
 * PostgreSQL for tests: the server's URL comes from FLEX_TEST_DATABASE_URL (`.ci/run` sets it), and
 * each test gets a database of its own, dropped afterwards. Without the variable the PostgreSQL tests
 * are skipped, and say why.
 */

import * as Net from "node:net"
import { Effect } from "effect"
import pg from "pg"

export const url = process.env.FLEX_TEST_DATABASE_URL

export const skipReason = "FLEX_TEST_DATABASE_URL is not set: the PostgreSQL tests need a server (.ci/run starts one)"

if (url === undefined) console.warn(`[skipped] ${skipReason}`)

const withDatabase = (database: string) => {
  const u = new URL(url!)
  u.pathname = `/${database}`
  return u.toString()
}

const admin = async <A>(f: (client: pg.Client) => Promise<A>): Promise<A> => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await f(client)
  } finally {
    await client.end()
  }
}

/** A new, empty database for this test; dropped (connections and all) when the scope closes. */
export const freshDatabase = Effect.acquireRelease(
  Effect.promise(async () => {
    const name = `flex_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
    await admin((c) => c.query(`CREATE DATABASE ${name}`))
    return { name, url: withDatabase(name) }
  }),
  ({ name }) =>
    Effect.promise(() => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))).pipe(Effect.ignore)
)

/** Runs a query against a test database. */
export const query = <R extends pg.QueryResultRow = any>(
  databaseUrl: string,
  text: string,
  values: Array<unknown> = []
) =>
  Effect.promise(async () => {
    const client = new pg.Client({ connectionString: databaseUrl })
    await client.connect()
    try {
      return (await client.query<R>(text, values)).rows
    } finally {
      await client.end()
    }
  })

/** A free TCP port on 127.0.0.1 (for runner addresses, which must be known before the runner starts). */
export const freePort = Effect.promise(
  () =>
    new Promise<number>((resolve, reject) => {
      const server = Net.createServer()
      server.once("error", reject)
      server.listen(0, "127.0.0.1", () => {
        const port = (server.address() as Net.AddressInfo).port
        server.close(() => resolve(port))
      })
    })
)

/**
 * A TCP proxy on 127.0.0.1 in front of the PostgreSQL server, to cut one worker off its database
 * without stopping the server other tests use.
 */
export const proxy = Effect.acquireRelease(
  Effect.promise(async () => {
    const target = new URL(url!)
    const sockets = new Set<Net.Socket>()
    let open = true
    const server = Net.createServer((client) => {
      if (!open) return client.destroy()
      const upstream = Net.connect(Number(target.port || 5432), target.hostname)
      sockets.add(client).add(upstream)
      client.pipe(upstream).pipe(client)
      const close = () => {
        client.destroy()
        upstream.destroy()
      }
      client.on("error", close).on("close", close)
      upstream.on("error", close).on("close", close)
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const port = (server.address() as Net.AddressInfo).port
    return {
      server,
      /** The URL of `database` through the proxy. */
      urlFor: (database: string) => {
        const u = new URL(withDatabase(database))
        u.hostname = "127.0.0.1"
        u.port = String(port)
        return u.toString()
      },
      /** Refuses new connections and drops the open ones: the database is gone for whoever uses it. */
      cut: () => {
        open = false
        for (const s of sockets) s.destroy()
        sockets.clear()
      },
      restore: () => {
        open = true
      }
    }
  }),
  ({ server, cut }) =>
    Effect.sync(() => {
      cut()
      server.close()
    })
)
