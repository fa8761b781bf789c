import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "kysely";
import { after, before, describe, test } from "node:test";
import { DIALECTS, freshDatabase, openTestStore } from "../support/hearth.ts";
import { serve, type Served } from "../support/process.ts";
import { report, request, sleep } from "../support/reliability.ts";
import { startUpstream } from "../support/upstream.ts";

/**
 * Crash safety: a real `hearth serve` under a mixed write load over HTTP is killed with SIGKILL at
 * random moments, again and again. After each restart the store must hold exactly the writes that
 * were acknowledged, plus at most the one request each client had in flight (applied whole or not
 * at all), with exactly one successful audit entry per applied change, no key without its owner,
 * and a server that starts cleanly.
 *
 * Each client works on its own users, one request at a time, so the expected store is exact.
 */
const KILLS = Number(process.env.HEARTH_RELIABILITY_KILLS ?? 20);
const CLIENTS = 6;
const SEED = Number(process.env.HEARTH_RELIABILITY_SEED ?? Date.now() % 1_000_000);
const ROLES = ["admin", "user", "contributor", "inference-user"];
const A = "/v1/accounts/my-account";

/** A small seeded generator, so a failing run can be replayed with HEARTH_RELIABILITY_SEED. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

interface ModelUser {
  role: string;
  /** keyId → secret (undefined when the key was created by a request whose answer was lost). */
  keys: Map<string, string | undefined>;
}

type Op =
  | { kind: "CreateUser"; userId: string; role: string }
  | { kind: "UpdateUser"; userId: string; role: string }
  | { kind: "DeleteUser"; userId: string }
  | { kind: "CreateApiKey"; userId: string }
  | { kind: "DeleteApiKey"; userId: string; keyId: string; viaPost: boolean };

const userResource = (userId: string) => `accounts/my-account/users/${userId}`;

function auditKey(op: Op): string {
  const resource = op.kind === "DeleteApiKey" ? `${userResource(op.userId)}/apiKeys/${op.keyId}` : userResource(op.userId);
  return `${op.kind} ${resource}`;
}

class Client {
  readonly users = new Map<string, ModelUser>();
  private seq = 0;
  readonly id: number;
  constructor(id: number) {
    this.id = id;
  }

  next(random: () => number): Op {
    const ids = [...this.users.keys()];
    const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
    const r = random();
    if (ids.length < 2 || (r < 0.25 && ids.length < 6)) return { kind: "CreateUser", userId: `c${this.id}-u${this.seq++}`, role: pick(ROLES) };
    const userId = pick(ids);
    const user = this.users.get(userId)!;
    if (r < 0.5 && user.keys.size < 4) return { kind: "CreateApiKey", userId };
    if (r < 0.65 && user.keys.size > 0) return { kind: "DeleteApiKey", userId, keyId: pick([...user.keys.keys()]), viaPost: random() < 0.5 };
    if (r < 0.85) return { kind: "UpdateUser", userId, role: pick(ROLES.filter((x) => x !== user.role)) };
    return { kind: "DeleteUser", userId };
  }

  /** Folds an applied change into the expected store. */
  apply(op: Op, keyId?: string, secret?: string): void {
    switch (op.kind) {
      case "CreateUser":
        this.users.set(op.userId, { role: op.role, keys: new Map() });
        break;
      case "UpdateUser":
        this.users.get(op.userId)!.role = op.role;
        break;
      case "DeleteUser":
        this.users.delete(op.userId);
        break;
      case "CreateApiKey":
        this.users.get(op.userId)!.keys.set(keyId!, secret);
        break;
      case "DeleteApiKey":
        this.users.get(op.userId)!.keys.delete(op.keyId);
        break;
    }
  }
}

function send(baseUrl: string, key: string, op: Op) {
  switch (op.kind) {
    case "CreateUser":
      return request(baseUrl, "POST", `${A}/users?userId=${op.userId}`, { key, body: { serviceAccount: true, role: op.role } });
    case "UpdateUser":
      return request(baseUrl, "PATCH", `${A}/users/${op.userId}`, { key, body: { role: op.role } });
    case "DeleteUser":
      return request(baseUrl, "DELETE", `${A}/users/${op.userId}`, { key });
    case "CreateApiKey":
      return request(baseUrl, "POST", `${A}/users/${op.userId}/apiKeys`, { key, body: { apiKey: { displayName: "crash" } } });
    case "DeleteApiKey":
      return op.viaPost
        ? request(baseUrl, "POST", `${A}/users/${op.userId}/apiKeys:delete`, { key, body: { keyId: op.keyId } })
        : request(baseUrl, "DELETE", `${A}/users/${op.userId}/apiKeys/${op.keyId}`, { key });
  }
}

for (const dialect of DIALECTS) {
  describe(`crash safety (${dialect}): hearth serve killed with SIGKILL under write load`, () => {
    let db: Awaited<ReturnType<typeof freshDatabase>>;
    let env: Record<string, string>;
    let s: Served;
    let admin: string;

    before(async () => {
      db = await freshDatabase(dialect);
      // Refused keys are checked on purpose, many from one address: no throttling here.
      env = {
        ...db.env,
        HEARTH_LOG_LEVEL: "warn",
        HEARTH_LAST_USED_FLUSH_MS: "50",
        HEARTH_AUTH_FAILURES_SLOW: "1000000",
        HEARTH_AUTH_FAILURES_BLOCK: "1000000",
      };
      s = await serve(env);
      admin = readFileSync(join(db.dataDir, "admin-api-key"), "utf8").trim();
    });
    after(async () => {
      await s.stop("SIGKILL");
      await db.drop();
    });

    test(`${KILLS} kills at random moments: no acknowledged write lost, nothing half-applied, one audit entry per change`, async () => {
      const random = rng(SEED + (dialect === "postgres" ? 1 : 0));
      const clients = Array.from({ length: CLIENTS }, (_, i) => new Client(i));
      /** Successful changes per "Method resource", as the audit log must count them. */
      const committed = new Map<string, number>();
      const bump = (k: string) => committed.set(k, (committed.get(k) ?? 0) + 1);
      let acknowledged = 0;
      let inFlight = 0;
      let inFlightApplied = 0;
      let keysChecked = 0;
      let auditChecked = 0;

      for (let kill = 1; kill <= KILLS; kill++) {
        let stopped = false;
        let armed = false;
        let killedAt = Infinity;
        let fire!: () => void;
        const killNow = new Promise<void>((resolve) => (fire = resolve));
        const unexpected: string[] = [];
        const uncertain: Array<{ client: Client; op: Op }> = [];
        const fresh: Array<{ secret: string; keyId: string; userId: string; client: Client }> = [];
        const workers = clients.map(async (client) => {
          while (!stopped) {
            const op = client.next(random);
            if (armed) {
              // An aimed kill: a few milliseconds after this request leaves, mid-transaction or just after.
              armed = false;
              setTimeout(fire, random() * 12);
            }
            const sentAt = Date.now();
            let res;
            try {
              res = await send(s.baseUrl, admin, op);
            } catch {
              uncertain.push({ client, op }); // the answer was lost: applied whole, or not at all
              if (sentAt < killedAt) inFlight++;
              return;
            }
            if (res.status !== 200) {
              unexpected.push(`${op.kind} ${JSON.stringify(op)} → ${res.status} ${JSON.stringify(res.body)}`);
              return;
            }
            acknowledged++;
            bump(auditKey(op));
            if (op.kind === "CreateApiKey") fresh.push({ secret: res.body.key, keyId: res.body.keyId, userId: op.userId, client });
            client.apply(op, res.body.keyId, res.body.key);
          }
        });
        // Half the kills land at a random moment, half a few milliseconds after a write was sent.
        const aimed = kill % 2 === 0;
        setTimeout(() => (aimed ? (armed = true) : fire()), 300 + random() * 1500);
        await killNow;
        killedAt = Date.now();
        await s.stop("SIGKILL");
        stopped = true;
        await Promise.all(workers);
        assert.deepEqual(unexpected, [], `kill ${kill}: every request answered before the kill succeeded`);

        // The store as the restarted server will find it, read directly.
        const store = await openTestStore(env);
        try {
          const users = await store.db.selectFrom("users").select(["id", "role"]).where("account_id", "=", "my-account").execute();
          const keys = await store.db.selectFrom("api_keys").select(["id", "user_id"]).where("account_id", "=", "my-account").execute();
          const storeUsers = new Map(users.map((u) => [u.id, { role: u.role, keys: new Set<string>() }]));
          const orphans = keys.filter((k) => !storeUsers.has(k.user_id));
          assert.deepEqual(orphans, [], `kill ${kill}: no key whose owner is gone`);
          for (const k of keys) storeUsers.get(k.user_id)!.keys.add(k.id);

          // The one request each client had in flight: applied whole, or not at all.
          for (const { client, op } of uncertain) {
            const now = storeUsers.get(op.userId);
            let applied = false;
            let newKey: string | undefined;
            switch (op.kind) {
              case "CreateUser":
                applied = now !== undefined;
                if (applied) assert.equal(now!.role, op.role, `kill ${kill}: ${op.userId} created whole`);
                break;
              case "DeleteUser":
                applied = now === undefined;
                break;
              case "UpdateUser":
                applied = now?.role === op.role;
                break;
              case "CreateApiKey": {
                const extra = [...(now?.keys ?? [])].filter((id) => !client.users.get(op.userId)!.keys.has(id));
                assert.ok(extra.length <= 1, `kill ${kill}: at most one key from one request`);
                applied = extra.length === 1;
                newKey = extra[0];
                break;
              }
              case "DeleteApiKey":
                applied = !now?.keys.has(op.keyId);
                break;
            }
            if (applied) {
              inFlightApplied++;
              bump(auditKey(op));
              client.apply(op, newKey);
            }
          }

          // Exactly the expected users, roles and keys: nothing lost, nothing extra.
          const expected = new Map<string, { role: string; keys: string[] }>();
          for (const c of clients) for (const [id, u] of c.users) expected.set(id, { role: u.role, keys: [...u.keys.keys()].sort() });
          const actual = new Map<string, { role: string; keys: string[] }>();
          for (const [id, u] of storeUsers) if (/^c\d+-u\d+$/.test(id)) actual.set(id, { role: u.role, keys: [...u.keys].sort() });
          assert.deepEqual(
            Object.fromEntries([...actual].sort()),
            Object.fromEntries([...expected].sort()),
            `kill ${kill}: the store holds exactly the acknowledged writes`,
          );

          // One successful audit entry per applied change, none for what did not happen.
          const audit = await store.db
            .selectFrom("audit_logs")
            .select(["method", "resource", (eb) => eb.fn.countAll().as("n")])
            .where("account_id", "=", "my-account")
            .where("status_code", "=", 0)
            .where("resource", "like", "accounts/my-account/users/c%")
            .groupBy(["method", "resource"])
            .execute();
          const counted = new Map(audit.map((r) => [`${r.method} ${r.resource}`, Number(r.n)]));
          assert.deepEqual(Object.fromEntries([...counted].sort()), Object.fromEntries([...committed].sort()), `kill ${kill}: audit entries match the changes`);
          auditChecked += counted.size;
          if (dialect === "sqlite") {
            const check = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(store.db);
            assert.equal(check.rows[0]?.integrity_check, "ok");
          }
        } finally {
          await store.close();
        }

        s = await serve(env);
        assert.doesNotMatch(s.output(), /"level":(50|60)|Error|error/, `kill ${kill}: the server starts cleanly`);
        assert.equal((await request(s.baseUrl, "GET", "/healthz")).status, 200);
        // The keys acknowledged in this round work; the ones deleted (or whose owner was) do not.
        for (const f of fresh) {
          const live = f.client.users.get(f.userId)?.keys.has(f.keyId) === true;
          const res = await request(s.baseUrl, "GET", "/verifyApiKey", { key: f.secret });
          assert.equal(res.status, live ? 200 : 401, `kill ${kill}: key ${f.keyId} ${live ? "works" : "is refused"} after the restart`);
          keysChecked++;
        }
      }
      report(`crash safety (${dialect})`, {
        "SIGKILLs survived": KILLS,
        "acknowledged writes checked": acknowledged,
        "writes in flight at a kill (answer lost)": inFlight,
        "of those, applied whole": inFlightApplied,
        "lost or half-applied writes": 0,
        "audit (method, resource) counts matched": auditChecked,
        "keys verified after restart": keysChecked,
        seed: SEED,
      });
    });
  });
}

/**
 * Metering under SIGKILL: inference usage is written behind the responses, in batches at most
 * 100 ms apart. A process killed outright may lose the batch it had not written yet — only calls
 * answered since the last write — and nothing more; and no call is ever metered twice (metered
 * calls ≤ calls the upstream served), in the store or in the spend counters rebuilt from it.
 */
const METER_ROUNDS = 5;

for (const dialect of DIALECTS) {
  describe(`metering under SIGKILL (${dialect})`, () => {
    let db: Awaited<ReturnType<typeof freshDatabase>>;
    let upstream: Awaited<ReturnType<typeof startUpstream>>;
    let env: Record<string, string>;
    let s: Served;
    let admin: string;
    const A = "/v1/accounts/my-account";
    const since = () => new Date(Date.now() - 86_400_000).toISOString();

    before(async () => {
      db = await freshDatabase(dialect);
      upstream = await startUpstream();
      const configFile = join(db.dataDir, "platform.json");
      // The upstream reports 3 prompt and 1 completion token: "dollar" costs $1 a call.
      const models = [{ id: "dollar", upstreamModel: "tiny", outputPricePerMillionTokens: 1_000_000, maxCostPerRequestUsd: 1 }];
      writeFileSync(configFile, JSON.stringify({ backends: [{ name: "local", baseUrl: upstream.baseUrl, models }] }));
      env = { ...db.env, HEARTH_LOG_LEVEL: "warn", HEARTH_CONFIG: configFile };
      s = await serve(env);
      admin = readFileSync(join(db.dataDir, "admin-api-key"), "utf8").trim();
    });
    after(async () => {
      await s.stop("SIGKILL");
      upstream.server.close();
      await db.drop();
    });

    test(`${METER_ROUNDS} kills while inference runs: at most the calls answered since the last batch write are lost, none counted twice`, async () => {
      const infer = () =>
        request(s.baseUrl, "POST", "/inference/v1/chat/completions", {
          key: admin,
          body: { model: "accounts/fireworks/models/dollar", messages: [{ role: "user", content: "hi" }], max_tokens: 1 },
        });
      const metered = async () => {
        const usage = await request(s.baseUrl, "GET", `${A}/billingUsage?startTime=${since()}`, { key: admin });
        assert.equal(usage.status, 200, JSON.stringify(usage.body));
        return { requests: usage.body.total.requestCount as number, costUsd: usage.body.total.costUsd as number };
      };
      let answered = 0;
      let maxLost = 0;
      let lostTotal = 0;
      for (let round = 0; round < METER_ROUNDS; round++) {
        // Answered calls, then a read through the same process: its batch is written first.
        for (let i = 0; i < 10; i++) if ((await infer()).status === 200) answered++;
        const confirmed = await metered();
        assert.equal(confirmed.requests, answered, `round ${round}: a graceful path loses nothing`);
        // Calls answered after that write, then a kill with more in flight (the budget never binds here).
        let answeredSince = 0;
        let stop = false;
        const worker = async () => {
          while (!stop) {
            try {
              if ((await infer()).status === 200) answeredSince++;
            } catch {
              return; // the process is gone
            }
          }
        };
        const workers = Array.from({ length: 4 }, worker);
        while (answeredSince < 5 + round * 3) await sleep(2);
        await s.stop("SIGKILL");
        stop = true;
        await Promise.all(workers);
        s = await serve(env);
        const after = await metered();
        const lost = answered + answeredSince - after.requests;
        assert.ok(after.requests >= confirmed.requests, `round ${round}: written usage survives the kill`);
        assert.ok(lost <= answeredSince, `round ${round}: lost ${lost} metered calls, more than the ${answeredSince} answered since the last write`);
        assert.ok(after.requests <= upstream.requests(), `round ${round}: ${after.requests} calls metered, ${upstream.requests()} served: none twice`);
        assert.equal(after.costUsd, after.requests, `round ${round}: the cost is that of the metered calls`);
        // The spend counter is rebuilt from the store: a limit at exactly the metered spend refuses the next call.
        assert.equal((await request(s.baseUrl, "PATCH", `${A}/quotas/monthly-spend-usd`, { key: admin, body: { value: after.costUsd } })).status, 200);
        const refused = await infer();
        assert.equal(refused.status, 402);
        // (The killed process's unwritten calls still hold their reservations until they lapse.)
        const spent = `\\$${after.costUsd.toFixed(6).replace(".", "\\.")} spent this month`;
        assert.match(refused.body.error.message, new RegExp(`${spent}( \\(and \\$[\\d.]+ reserved by calls in flight\\))? of`));
        assert.equal((await request(s.baseUrl, "PATCH", `${A}/quotas/monthly-spend-usd`, { key: admin, body: { value: 1000 } })).status, 200);
        maxLost = Math.max(maxLost, Math.max(0, lost));
        lostTotal += Math.max(0, lost);
        answered = after.requests;
      }
      report(`metering under SIGKILL (${dialect})`, {
        "SIGKILLs during inference": METER_ROUNDS,
        "calls metered": answered,
        "answered calls lost with an unwritten batch (total)": lostTotal,
        "most lost at one kill": maxLost,
        "calls metered twice": 0,
      });
    });
  });
}
