#!/usr/bin/env node
/**
 * `flex-worker`. Help, the version and a missing or unknown command are answered here, before anything
 * else is loaded; a command loads only what it needs (cli/Main, then the command's own modules).
 * Exit codes and messages: cli/Main.
 */
import * as Help from "./cli/Help.js"

const args = process.argv.slice(2)
const help = Help.requested(args)
if (help !== undefined) {
  process.stdout.write(Help.text(help.command))
} else if (args[0] === "--version") {
  process.stdout.write(`flex-worker ${Help.version}\n`)
} else if (!Help.commands.some((c) => c === args[0])) {
  process.stderr.write(`flex-worker: ${Help.unknownCommand(args[0])}\n`)
  process.exitCode = 2
} else {
  import("./cli/Main.js").then((Main) => Main.main(process.argv))
}
