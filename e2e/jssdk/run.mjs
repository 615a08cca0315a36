// run.mjs runs one end-to-end scenario of mxaccounts with matrix-js-sdk:
//
//   MX_BASE_URL=http://127.0.0.1:8008 MX_REG_TOKEN=... node run.mjs SCENARIO
//
// On success it prints one JSON line, {"scenario", "ok": true, "steps", "results"}, on
// stdout and exits 0. On failure it prints the failed step and the reason on stderr and
// exits 1; a usage error exits 2. The SDK's own log (one line per request) goes to
// stderr too. e2e/jssdk_test.go runs every scenario against a fresh server; README.md
// beside this file lists the scenarios and their inputs.

import { Console } from "node:console";
import { describe, ScenarioError, Steps } from "./lib.mjs";
import deactivate from "./scenarios/deactivate.mjs";
import devices from "./scenarios/devices.mjs";
import password from "./scenarios/password.mjs";
import refresh from "./scenarios/refresh.mjs";

const scenarios = { password, devices, refresh, deactivate };

// The SDK logs through whatever console is global when it logs; keep stdout for the
// result line.
globalThis.console = new Console({ stdout: process.stderr, stderr: process.stderr });

const name = process.argv[2];
if (process.argv.length !== 3 || !Object.hasOwn(scenarios, name)) {
  process.stderr.write(`usage: node run.mjs SCENARIO\n` +
    `  SCENARIO is one of: ${Object.keys(scenarios).join(", ")}\n` +
    `  inputs: MX_BASE_URL, MX_REG_TOKEN, MX_SERVER_NAME (default localhost), ` +
    `MX_ACCESS_LIFETIME_MS (refresh)\n`);
  process.exit(2);
}

const steps = new Steps();
try {
  const results = await scenarios[name](steps);
  process.stdout.write(JSON.stringify({ scenario: name, ok: true, steps: steps.done,
    results }) + "\n");
  process.exitCode = 0;
} catch (err) {
  process.stderr.write(`jssdk scenario "${name}" FAILED at step "${steps.current}"\n`);
  process.stderr.write(`  ${describe(err)}\n`);
  if (!(err instanceof ScenarioError) && err?.name !== "AssertionError" && err?.stack) {
    process.stderr.write(`${err.stack}\n`);
  }
  process.stderr.write(`  steps passed before it: ${JSON.stringify(steps.done)}\n`);
  process.exitCode = 1;
}
