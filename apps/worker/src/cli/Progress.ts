/**
 * Progress on stderr: a bar on a terminal (done/total, rate, ETA), a plain line every few seconds
 * otherwise, nothing with --json.
 */
export interface Progress {
  readonly tick: (done: number) => void
  readonly finish: () => void
}

const formatEta = (seconds: number): string => {
  if (!Number.isFinite(seconds)) return "--"
  if (seconds < 60) return `${Math.ceil(seconds)}s`
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(Math.ceil(seconds % 60)).padStart(2, "0")}s`
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, "0")}m`
}

export const make = (total: number, mode: "bar" | "lines" | "off"): Progress => {
  const started = Date.now()
  let last = 0
  const line = (done: number) => {
    const elapsed = (Date.now() - started) / 1000
    const rate = elapsed > 0 ? done / elapsed : 0
    const eta = total > done && rate > 0 ? (total - done) / rate : Number.NaN
    return { rate, eta }
  }
  if (mode === "off") return { tick: () => {}, finish: () => {} }
  if (mode === "lines") {
    return {
      tick: (done) => {
        const now = Date.now()
        if (now - last < 2000 && done !== total) return
        last = now
        const { rate, eta } = line(done)
        process.stderr.write(`progress: ${done}/${total} done, ${rate.toFixed(1)}/s, eta ${formatEta(eta)}\n`)
      },
      finish: () => {}
    }
  }
  let shown = 0
  const draw = () => {
    const { rate, eta } = line(shown)
    const width = 30
    const ratio = total > 0 ? Math.min(1, shown / total) : 1
    const filled = Math.round(ratio * width)
    const bar = `${"=".repeat(Math.max(0, filled - 1))}${filled > 0 ? ">" : ""}${" ".repeat(width - filled)}`
    process.stderr.write(`\r[${bar}] ${shown}/${total}  ${rate.toFixed(1)}/s  ETA ${formatEta(eta)}   `)
  }
  return {
    tick: (done) => {
      shown = done
      const now = Date.now()
      if (now - last < 100 && done !== total) return
      last = now
      draw()
    },
    finish: () => {
      draw()
      process.stderr.write("\n")
    }
  }
}
