/**
 * Keeps a long batch's memory near its live size.
 *
 * V8 sizes its heap to the machine (a 4 GB limit on 24 GB): a batch's garbage (finished workflows,
 * answers, engine messages) is promoted faster than V8 bothers to collect it, and the heap grew to
 * 250 MB after 2,000 cancellations with under 90 MB live (bench/, BENCHMARKS.md). A fixed
 * `--max-old-space-size` would bound it, but would also turn a large backlog in `serve` into an
 * out-of-memory crash. Instead the batch, which knows when a moment is quiet enough, asks for a full
 * collection once the heap has grown past a threshold: a few tens of milliseconds every few thousand
 * requests.
 */
import * as v8 from "node:v8"
import * as vm from "node:vm"

/** A full collection, if this process can ask for one. */
const gc: (() => void) | undefined = (() => {
  try {
    v8.setFlagsFromString("--expose-gc")
    const collect = vm.runInNewContext("gc") as unknown
    return typeof collect === "function" ? (collect as () => void) : undefined
  } catch {
    return undefined
  }
})()

/** The heap size above which a batch collects: about twice the live size of a busy batch. */
export const threshold = 112 * 1024 * 1024

/** Collects if the heap is above `threshold`; cheap to call often (one V8 statistic). */
export const trim = (): boolean => {
  if (gc === undefined || v8.getHeapStatistics().used_heap_size < threshold) return false
  gc()
  return true
}
