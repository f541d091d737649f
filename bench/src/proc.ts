/**
 * What a child process used, read from Linux's /proc while it runs: its peak resident set (VmHWM,
 * which the kernel keeps as a high-water mark) and its CPU time. Elsewhere the figures are null.
 */
import { readFileSync } from "node:fs"

export interface Usage {
  /** Peak resident set, MB (VmHWM at the last sample). */
  readonly peakRssMb: number | null
  /** User + system CPU time, seconds (at the last sample). */
  readonly cpuSeconds: number | null
}

const ticksPerSecond = 100 // USER_HZ: 100 on every Linux build in practice

const sample = (pid: number): { hwmKb: number; cpuTicks: number } | undefined => {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8")
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status)
    // An exited process not yet reaped (a zombie) has no memory lines left: no sample.
    if (hwm === null) return undefined
    // Fields after the command name (which may contain spaces, inside parentheses): utime is the 14th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return { hwmKb: Number(hwm[1]), cpuTicks: Number(fields[11]) + Number(fields[12]) }
  } catch {
    return undefined
  }
}

/** Samples `pid` every `everyMs` until `stop()`; `stop` returns the last figures seen. */
export const watch = (pid: number, everyMs = 200): { readonly stop: () => Usage } => {
  let last = sample(pid)
  const timer = setInterval(() => {
    last = sample(pid) ?? last
  }, everyMs)
  return {
    stop: () => {
      clearInterval(timer)
      last = sample(pid) ?? last
      return {
        peakRssMb: last === undefined ? null : last.hwmKb / 1024,
        cpuSeconds: last === undefined ? null : last.cpuTicks / ticksPerSecond
      }
    }
  }
}
