/**
 * Lets the event loop run between the runs of a long property test: hundreds of synchronous decodes
 * in a row would otherwise hold the test worker's thread for tens of seconds on a loaded machine, and
 * vitest's worker fails the file ("Timeout calling onTaskUpdate") although every test passed.
 */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
