import { configDefaults, mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.js"

// The chaos suite (test/chaos/**) takes minutes: it runs with `pnpm test:chaos` (vitest.chaos.config.ts),
// and its quick version (test/Chaos.quick.test.ts) runs here.
// The worker's tests start real processes (the CLI, serve, the sandbox): on a busy 2-core machine one
// start takes seconds, so a test of several runs can pass 30 s. The limit is there to catch a hang, not
// to time anything: 4 minutes per test unless it says otherwise.
export default mergeConfig(shared, {
  test: { exclude: [...configDefaults.exclude, "test/chaos/**"], testTimeout: 240_000, hookTimeout: 240_000 }
})
