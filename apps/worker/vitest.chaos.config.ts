import type { ViteUserConfig } from "vitest/config"
import shared from "../../vitest.shared.js"

// `pnpm test:chaos`: the full reliability suite (see RELIABILITY.md). Scenarios run one file at a time
// (each drives real worker processes against a sandbox on a 2-core machine), each bounded in time.
const config: ViteUserConfig = {
  ...shared,
  test: {
    ...shared.test,
    include: ["test/chaos/**/*.test.ts"],
    testTimeout: 900_000,
    hookTimeout: 300_000,
    fileParallelism: false,
    maxWorkers: 1,
    minWorkers: 1
  }
}

export default config
