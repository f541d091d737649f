/**
 * One process per SQLite store, enforced by the operating system.
 *
 * The embedded engine assumes it is the only runner on its file: a second process would take every
 * shard too and run the same workflows twice. So the worker holds an exclusive SQLite lock (a POSIX
 * file lock) on `<store>.lock` for as long as it runs. The kernel drops the lock when the process
 * dies, even by kill -9, so a crash never leaves a stale lock behind.
 */
import Database from "better-sqlite3"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"

export class StoreLocked extends Data.TaggedError("StoreLocked")<{ readonly store: string }> {
  override get message(): string {
    return `Another flex-worker is already using the store ${this.store}. Run one worker per store (stop the other one, or pass --store to use another file).`
  }
}

export class StoreUnavailable extends Data.TaggedError("StoreUnavailable")<{
  readonly store: string
  readonly reason: string
}> {
  override get message(): string {
    return `Cannot open the store ${this.store}: ${this.reason}`
  }
}

export const acquire = (store: string): Effect.Effect<void, StoreLocked | StoreUnavailable, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.try({
      try: () => {
        const db = new Database(`${store}.lock`, { timeout: 0 })
        try {
          db.exec("BEGIN EXCLUSIVE")
          return db
        } catch (error) {
          db.close()
          throw error
        }
      },
      catch: (error) =>
        (error as { code?: string }).code === "SQLITE_BUSY"
          ? new StoreLocked({ store })
          : new StoreUnavailable({ store, reason: (error as Error).message })
    }),
    (db) => Effect.sync(() => db.close())
  ).pipe(Effect.asVoid)
