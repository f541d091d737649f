import * as v8 from "node:v8"
import { assert, describe, it } from "@effect/vitest"
import * as Heap from "../src/cli/Heap.js"

describe("Heap.trim", () => {
  it("collects garbage once the heap is past the threshold, and only then", () => {
    // Garbage that outlives a scavenge (promoted), as a batch's finished workflows do.
    let garbage: Array<{ readonly i: number; readonly s: string }> | null = []
    for (let i = 0; v8.getHeapStatistics().used_heap_size < Heap.threshold + 16 * 1024 * 1024; i++) {
      garbage.push({ i, s: `payload-${i}` })
    }
    garbage = null
    assert.isTrue(Heap.trim(), "a heap past the threshold is collected")
    const after = v8.getHeapStatistics().used_heap_size
    assert.isBelow(after, Heap.threshold, `${Math.round(after / 1048576)} MB left after the collection`)
    assert.isFalse(Heap.trim(), "below the threshold nothing is done")
  })
})
