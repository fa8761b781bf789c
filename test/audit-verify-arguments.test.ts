import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";
import { hearth } from "./support/process.ts";

/**
 * `hearth audit verify` with an argument that names nothing (found by fuzzing the operator CLI):
 * `--account` naming no account printed "verified: 0 entries" and exited 0, so a misspelt id passed
 * for a verified chain; `--file` or `--public-key` naming a missing file, a directory or a file that
 * is not JSON failed with the system's or the parser's words (`EISDIR: illegal operation on a
 * directory, read`, `Unexpected token 'r', "root:x:0:0"... is not valid JSON`). Each now exits 1
 * with a sentence naming the argument.
 */
for (const dialect of DIALECTS) {
  describe(`hearth audit verify refuses an argument that names nothing (${dialect})`, () => {
    let h: TestHearth;
    let dir: string;
    before(async () => {
      h = await startHearth(dialect);
      dir = mkdtempSync(join(tmpdir(), "hearth-verify-"));
      writeFileSync(join(dir, "not-json.jsonl"), "root:x:0:0:root:/root:/bin/bash\n");
    });
    after(() => h.stop());

    test('regression: --account naming no account exits 1 saying so, never "verified"', async () => {
      const run = await hearth(["audit", "verify", "--account", "my-acount"], h.env);
      assert.equal(run.code, 1, run.stdout);
      assert.equal(run.stdout, "");
      assert.match(run.stderr, /^hearth: account "my-acount" not found/);
      const real = await hearth(["audit", "verify", "--account", "my-account"], h.env);
      assert.equal(real.code, 0, real.stdout + real.stderr);
      assert.match(real.stdout, /^verified: \d+ entries/);
    });

    test("regression: --file and --public-key name a missing file, a directory or a file that is not JSON", async () => {
      const export_ = join(dir, "not-json.jsonl");
      for (const [args, message] of [
        [["--file", join(dir, "missing.jsonl")], /^hearth: --file .*missing\.jsonl: no such file$/m],
        [["--file", dir], /^hearth: --file .*: not a file$/m],
        [["--file", export_], /^hearth: not a Hearth audit export: its first line is not JSON \(/m],
        [["--file", export_, "--public-key", dir], /^hearth: --public-key .*: not a file$/m],
        [
          ["--file", export_, "--public-key", export_],
          /^hearth: --public-key .*not-json\.jsonl: not JSON \(.*\): give the JSON of \/\.well-known\/hearth-audit-keys$/m,
        ],
      ] as const) {
        const run = await hearth(["audit", "verify", ...args], h.env);
        assert.equal(run.code, 1, `${args.join(" ")}: ${run.stdout}`);
        assert.match(run.stderr, message, args.join(" "));
        assert.doesNotMatch(run.stderr, /\bE[A-Z]+: /, "no system error code");
      }
    });
  });
}
