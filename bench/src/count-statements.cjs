// Preloaded into the worker (`node --require`) by the benchmark: counts the SQL statements it runs on
// SQLite (every prepared statement run, every `exec`) and writes the count to
// FLEX_BENCH_STATEMENTS_FILE when the process exits.
const { createRequire } = require("node:module")
const { writeFileSync } = require("node:fs")
const Database = createRequire(process.env.FLEX_BENCH_SQLITE_FROM)("better-sqlite3")
let count = 0
const probe = new Database(":memory:")
const Statement = Object.getPrototypeOf(probe.prepare("SELECT 1"))
probe.close()
for (const method of ["run", "get", "all", "iterate"]) {
  const original = Statement[method]
  Statement[method] = function (...args) {
    count++
    return original.apply(this, args)
  }
}
const exec = Database.prototype.exec
Database.prototype.exec = function (...args) {
  count++
  return exec.apply(this, args)
}
process.on("exit", () => writeFileSync(process.env.FLEX_BENCH_STATEMENTS_FILE, String(count)))
