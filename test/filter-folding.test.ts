import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { sql } from "kysely";
import { loadConfig } from "../src/config.ts";
import { generateKey } from "../src/domain/api-key-format.ts";
import { createHearth } from "../src/server.ts";
import { migrate } from "../src/store/migrations.ts";
import { openStore } from "../src/store/store.ts";
import { DIALECTS, freshDatabase, startHearth, type TestHearth } from "./support/hearth.ts";

/**
 * AIP-160 `:` is case-insensitive in every script, and alike on SQLite and PostgreSQL: Hearth folds
 * case itself (NFC, then lowercase) instead of trusting the database's lower() or locale.
 */
const A = "/v1/accounts/my-account";

/** Service accounts and their display names; `amelie` is stored decomposed (NFD: `e` + U+0301). */
const NAMES: Record<string, string> = {
  emile: "Émile Zola",
  amelie: "Ame\u0301lie Poulain",
  athena: "Αθηνά Παλλάς",
  odysseus: "Οδυσσέας",
  dmitri: "Дмитрий Шостакович",
  strasse: "Straßenbahn Köln",
  istanbul: "İstanbul Ofisi",
  tokyo: "東京チーム",
  bob: "Plain Bob",
};

/** A filter value typed by someone → the service accounts whose display name it finds. */
const CASES: Array<[string, string[]]> = [
  ["Émile", ["emile"]],
  ["émile", ["emile"]],
  ["ÉMILE", ["emile"]],
  ["E\u0301MILE", ["emile"]], // decomposed input
  ["ZOLA", ["emile"]],
  ["emile", []], // accents are not stripped: only case is folded
  ["amélie", ["amelie"]], // precomposed input finds a decomposed name
  ["AME\u0301LIE", ["amelie"]],
  ["ΑΘΗΝΆ", ["athena"]],
  ["παλλάς", ["athena"]],
  ["ΟΔΥΣ", ["odysseus"]], // a final sigma in the search still matches mid-word
  ["οδυσσέας", ["odysseus"]],
  ["ШОСТАКОВИЧ", ["dmitri"]],
  ["дмитрий", ["dmitri"]],
  ["STRAẞENBAHN", ["strasse"]], // capital sharp s
  ["straße", ["strasse"]],
  ["KÖLN", ["strasse"]],
  ["İSTANBUL", ["istanbul"]],
  ["ofisi", ["istanbul"]],
  ["東京", ["tokyo"]],
  ["チーム", ["tokyo"]],
  ["bob", ["bob"]],
  ["b_b", []], // LIKE wildcards stay literal
  ["%", []],
];

const filterUrl = (value: string) => `${A}/users?pageSize=200&filter=${encodeURIComponent(`service_account=true AND display_name:${JSON.stringify(value)}`)}`;

async function found(call: (url: string) => Promise<{ status: number; body: any }>, value: string): Promise<string[]> {
  const res = await call(filterUrl(value));
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.users.map((u: { name: string }) => u.name.split("/").pop()).sort();
}

for (const dialect of DIALECTS) {
  describe(`case-insensitive filters in every script (${dialect})`, () => {
    let h: TestHearth;
    before(async () => {
      h = await startHearth(dialect);
      for (const [id, displayName] of Object.entries(NAMES)) {
        const res = await h.call("POST", `${A}/users?userId=${id}`, { body: { serviceAccount: true, role: "user", displayName } });
        assert.equal(res.status, 200, JSON.stringify(res.body));
      }
    });
    after(() => h.stop());

    for (const [value, expected] of CASES) {
      test(`display_name:${JSON.stringify(value)} finds ${expected.join(", ") || "nothing"}`, async () => {
        assert.deepEqual(await found((url) => h.call("GET", url), value), expected);
      });
    }

    test("a renamed user is found by its new name only", async () => {
      assert.equal((await h.call("PATCH", `${A}/users/bob?updateMask=displayName`, { body: { displayName: "ÜBER Bob" } })).status, 200);
      assert.deepEqual(await found((url) => h.call("GET", url), "über"), ["bob"]);
      assert.deepEqual(await found((url) => h.call("GET", url), "plain"), []);
    });
  });

  describe(`upgrading fills the folded text of existing rows (${dialect})`, () => {
    test("users, models and audit entries stored before the upgrade are found in any case, past the first batch", async () => {
      const db = await freshDatabase(dialect);
      try {
        const env: Record<string, string> = { ...db.env, HEARTH_LOG_LEVEL: "warn" };
        const config = loadConfig(env);
        const key = generateKey(config.keyPrefix);
        const store = await openStore({ databaseUrl: env.DATABASE_URL, dataDir: env.HEARTH_DATA_DIR, migrate: false });
        await migrate(store.db, store.dialect, 8);
        await sql`insert into accounts values ('acme', 'acme', 'admin@acme.example', 'READY', 1, 1)`.execute(store.db);
        await sql`insert into users values ('acme', 'admin', 'Admin', 'admin@acme.example', 'admin', 0, 'READY', 1, 1)`.execute(store.db);
        await sql`insert into api_keys values ('key-admin', 'acme', 'admin', 'k', ${key.digest}, ${key.displayPrefix}, 1, null, null, '{}')`.execute(store.db);
        for (const [id, displayName] of Object.entries(NAMES)) {
          await sql`insert into users values ('acme', ${id}, ${displayName}, ${`${id}@acme.sa.hearth.local`}, 'user', 1, 'READY', 1, 1)`.execute(store.db);
          await sql`insert into models values ('acme', ${id}, ${displayName}, '', 'local', 'm', 0, 0, 'admin@acme.example', 1, 1)`.execute(store.db);
        }
        // More rows than one batch of the upgrade's fill: 1,200 entries, every third a refusal in Greek.
        const now = Date.now();
        for (let i = 0; i < 1200; i++) {
          const status = i % 3 === 0 ? "PERMISSION_DENIED: ΑΠΑΓΟΡΕΥΕΤΑΙ" : "";
          await sql`insert into audit_logs values (${`entry-${String(i).padStart(4, "0")}`}, 'acme', ${now - i}, 'admin@acme.example', 'UpdateUser',
            'accounts/acme/users/emile', ${`Émile renamed ${i}`}, ${status ? 403 : 0}, ${status}, '{}', 0, '', '', '')`.execute(store.db);
        }
        await store.close();

        const hearth = await createHearth(config, { logStream: new Writable({ write: (_c, _e, done) => done() }) });
        try {
          const folded = await hearth.deps.store.db
            .selectFrom("users")
            .select(["id", "display_name_folded"])
            .where("id", "=", "emile")
            .executeTakeFirstOrThrow();
          assert.equal(folded.display_name_folded, "émile zola");
          const rows = await hearth.deps.store.db.selectFrom("models").select(["id", "display_name_folded"]).orderBy("id").execute();
          assert.ok(
            rows.every((r) => r.display_name_folded !== ""),
            "every model's folded name is filled",
          );
          const call = async (url: string) => {
            const res = await hearth.app.inject({ method: "GET", url: url.replace(A, "/v1/accounts/acme"), headers: { authorization: `Bearer ${key.key}` } });
            return { status: res.statusCode, body: JSON.parse(res.body) };
          };
          for (const [value, expected] of CASES) assert.deepEqual(await found(call, value), expected, value);
          const models = await call(`/v1/accounts/acme/models?filter=${encodeURIComponent('display_name:"ΟΔΥΣ"')}`);
          assert.deepEqual(
            models.body.models.map((m: { name: string }) => m.name.split("/").pop()),
            ["odysseus"],
          );
          const audited = async (filter: string) => {
            let total = 0;
            let token = "";
            do {
              const page = await call(`/v1/accounts/acme/auditLogs?pageSize=200&filter=${encodeURIComponent(filter)}&pageToken=${encodeURIComponent(token)}`);
              assert.equal(page.status, 200, JSON.stringify(page.body));
              total += page.body.auditLogs.length;
              token = page.body.nextPageToken;
            } while (token);
            return total;
          };
          assert.equal(await audited('message:"ÉMILE RENAMED"'), 1200);
          assert.equal(await audited('status:"απαγορευεται"'), 400);
        } finally {
          await hearth.close();
        }
      } finally {
        await db.drop();
      }
    });
  });
}
