import { readFileSync } from "node:fs"

/** Reads a JSON fixture from `test/fixtures`, fresh each call so tests can mutate it. */
export const load = (name: string): any =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), "utf8"))
