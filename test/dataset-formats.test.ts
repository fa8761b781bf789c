import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, test } from "node:test";
import { DIALECTS, type TestHearth } from "./support/hearth.ts";
import { auditEntries } from "./support/fixtures.ts";
import { startPlatform, upload } from "./support/platform.ts";

/**
 * A dataset's upload as people send it: curl (a real process) with its default and other Content-Types,
 * and the lines checked against the dataset's `format` (Fireworks' CHAT, COMPLETION or RL; by default the first line's).
 */
const A = "/v1/accounts/my-account";
const CHAT = '{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello!"}]}\n';
const COMPLETION = '{"prompt":"2+2=","completion":"4"}\n';
const TYPES =
  /application\/jsonl, application\/x-ndjson, application\/jsonlines, text\/plain, application\/octet-stream .*"file" field of a multipart\/form-data body/;

const run = promisify(execFile);

for (const dialect of DIALECTS) {
  describe(`dataset uploads and formats (${dialect})`, () => {
    let h: TestHearth;
    let stop: () => Promise<void>;
    let dir: string;
    let n = 0;
    before(async () => {
      ({ h, stop } = await startPlatform(dialect));
      dir = mkdtempSync(join(tmpdir(), "dataset-formats-"));
      writeFileSync(join(dir, "train.jsonl"), CHAT.repeat(3));
    });
    after(async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    });

    /** A new, empty dataset; `body` is the create request's body. */
    async function dataset(body: object = {}): Promise<string> {
      const id = `ds-${++n}`;
      const res = await h.call("POST", `${A}/datasets?datasetId=${id}`, { body });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return id;
    }

    /** curl, as a person types it, against `:upload`; returns the HTTP status and the parsed answer. */
    async function curl(id: string, ...args: string[]): Promise<{ status: number; body: any }> {
      const { stdout } = await run(
        "curl",
        ["-sS", "-w", "\n%{http_code}", "-H", `Authorization: Bearer ${h.adminKey}`, ...args, `${h.baseUrl}${A}/datasets/${id}:upload`],
        { cwd: dir },
      );
      const at = stdout.lastIndexOf("\n");
      return { status: Number(stdout.slice(at + 1)), body: JSON.parse(stdout.slice(0, at)) };
    }

    test("curl --data-binary with curl's default Content-Type is refused naming every type :upload takes, and the refusal is audited", async () => {
      const id = await dataset();
      const res = await curl(id, "--data-binary", "@train.jsonl");
      assert.equal(res.status, 400);
      assert.match(
        res.body.error.message,
        /^:upload does not take Content-Type "application\/x-www-form-urlencoded": send the JSONL as the raw body with Content-Type /,
      );
      assert.match(res.body.error.message, TYPES);
      const audit = await auditEntries(h, `message="UploadDataset" AND resource:"${id}"`);
      assert.equal(audit.length, 1);
      assert.equal(audit[0].status.code, "INVALID_ARGUMENT");
      assert.match(audit[0].status.message, /^INVALID_ARGUMENT: :upload does not take Content-Type "application\/x-www-form-urlencoded"/);
    });

    test("curl with Content-Type application/json is refused with the same advice, not a JSON parse error", async () => {
      const id = await dataset();
      const res = await curl(id, "-H", "Content-Type: application/json", "--data-binary", "@train.jsonl");
      assert.equal(res.status, 400);
      assert.match(res.body.error.message, /^:upload does not take Content-Type "application\/json": /);
      assert.match(res.body.error.message, TYPES);
      assert.doesNotMatch(res.body.error.message, /position|malformed/);
      assert.equal((await h.call("GET", `${A}/datasets/${id}`)).body.state, "UPLOADING");
    });

    test("curl with each type the refusal names is taken: application/jsonl, text/plain, and -F file=@", async () => {
      for (const args of [
        ["-H", "Content-Type: application/jsonl", "--data-binary", "@train.jsonl"],
        ["-H", "Content-Type: text/plain", "--data-binary", "@train.jsonl"],
        ["-H", "Content-Type: application/x-ndjson", "-T", "train.jsonl", "-X", "POST"],
        ["-F", "file=@train.jsonl"],
      ]) {
        const res = await curl(await dataset(), ...args);
        assert.equal(res.status, 200, `${args.join(" ")}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.state, "READY");
        assert.equal(res.body.exampleCount, "3");
      }
    });

    test("any other Content-Type on a JSON route is refused after the credential check, naming what was sent", async () => {
      const form = await run("curl", [
        "-sS",
        "-H",
        `Authorization: Bearer ${h.adminKey}`,
        "-d",
        "displayName=x",
        `${h.baseUrl}${A}/datasets?datasetId=via-form`,
      ]);
      assert.equal(JSON.parse(form.stdout).error.message, 'unsupported Content-Type "application/x-www-form-urlencoded": send application/json');
      const anonymous = await run("curl", [
        "-sS",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-d",
        "displayName=x",
        `${h.baseUrl}${A}/datasets?datasetId=via-form`,
      ]);
      assert.equal(anonymous.stdout, "401");
      assert.equal((await h.call("GET", `${A}/datasets/via-form`)).status, 404);
    });

    test("reproduction: a dataset created without a format takes the format of its first example, as Fireworks' FORMAT_UNSPECIFIED; RL is a format", async () => {
      const unset = await dataset();
      assert.equal((await h.call("GET", `${A}/datasets/${unset}`)).body.format, "FORMAT_UNSPECIFIED");
      // A completion file with no --format, as Fireworks' firectl uploads one (it was refused as not CHAT).
      const completions = await upload(h, h.adminKey, "my-account", unset, COMPLETION.repeat(3));
      assert.equal(completions.status, 200, await completions.clone().text());
      assert.deepEqual([((await completions.json()) as any).format, (await h.call("GET", `${A}/datasets/${unset}`)).body.format], ["COMPLETION", "COMPLETION"]);
      const chats = await dataset({ dataset: { format: "FORMAT_UNSPECIFIED", userUploaded: {} } });
      assert.equal((await upload(h, h.adminKey, "my-account", chats, CHAT)).status, 200);
      assert.equal((await h.call("GET", `${A}/datasets/${chats}`)).body.format, "CHAT");
      // Every line is held to the format the first one showed; a first line of no format is named.
      const mixed = await dataset();
      const refused = await upload(h, h.adminKey, "my-account", mixed, `${CHAT}${COMPLETION}`);
      assert.equal(refused.status, 400);
      assert.equal(
        ((await refused.json()) as any).error.message,
        'line 2 is not a CHAT example: it needs "messages", a non-empty array of {"role", "content"} objects',
      );
      const neither = await upload(h, h.adminKey, "my-account", mixed, '{"text":"a"}\n');
      assert.match(
        ((await neither.json()) as any).error.message,
        /^line 1 is an example of no format: it needs "messages" \(CHAT\) or "prompt" and "completion" \(COMPLETION\)/,
      );
      assert.equal((await h.call("GET", `${A}/datasets/${mixed}`)).body.format, "FORMAT_UNSPECIFIED", "a refused upload sets nothing");
      // RL: the prompt's messages, and whatever the evaluator reads.
      const rl = await dataset({ dataset: { format: "RL" } });
      const rlLine = '{"messages":[{"role":"user","content":"2+2?"}],"ground_truth":"4"}\n';
      assert.equal((await upload(h, h.adminKey, "my-account", rl, rlLine)).status, 200);
      assert.equal((await h.call("GET", `${A}/datasets/${rl}`)).body.format, "RL");
      const rlBad = await upload(h, h.adminKey, "my-account", await dataset({ format: "RL" }), COMPLETION);
      assert.equal(
        ((await rlBad.json()) as any).error.message,
        'line 1 is not a RL example: it needs "messages", a non-empty array of {"role", "content"} objects',
      );
      assert.equal((await h.call("GET", `${A}/datasets/${await dataset({ dataset: { format: "COMPLETION" } })}`)).body.format, "COMPLETION");
      const bad = await h.call("POST", `${A}/datasets?datasetId=bad-format`, { body: { format: "TEXT" } });
      assert.equal(bad.status, 400);
      assert.match(bad.body.error.message, /format/);
      assert.match(bad.body.error.message, /FORMAT_UNSPECIFIED.*CHAT.*COMPLETION.*RL/);
    });

    /** Lines that are JSON objects but not examples of the format → the refusal naming the first of them. */
    const REFUSED: Array<[format: string, body: string, message: string]> = [
      ["CHAT", `${CHAT}{"foo":1}\n${CHAT}`, 'line 2 is not a CHAT example: it needs "messages", a non-empty array of {"role", "content"} objects'],
      ["CHAT", `${CHAT}{"messages":[]}\n`, 'line 2 is not a CHAT example: it needs "messages", a non-empty array of {"role", "content"} objects'],
      [
        "CHAT",
        `{"messages":[{"role":"user","content":"a"},{"role":"bot","content":"b"}]}\n`,
        'line 1 is not a CHAT example: messages[1].role is "bot": use system, user, assistant, tool',
      ],
      [
        "CHAT",
        `${CHAT}${CHAT}{"messages":[{"role":"user","content":["a"]}]}\n`,
        'line 3 is not a CHAT example: messages[0].content[0] must be a content part with type text or image_url, not "a"',
      ],
      ["CHAT", `{"messages":[{"content":"a"}]}\n`, "line 1 is not a CHAT example: messages[0].role is undefined: use system, user, assistant, tool"],
      [
        "CHAT",
        `{"messages":[{"role":"user","content":4}]}\n`,
        "line 1 is not a CHAT example: messages[0].content must be a string or an array of content parts, not 4",
      ],
      [
        "CHAT",
        `{"messages":[{"role":"user","content":null}]}\n`,
        "line 1 is not a CHAT example: messages[0].content must be a string or an array of content parts, not null",
      ],
      [
        "CHAT",
        `{"messages":[{"role":"user","content":"a","tool_calls":[]}]}\n`,
        "line 1 is not a CHAT example: messages[0] has tool_calls, which only an assistant message may have",
      ],
      [
        "CHAT",
        `{"messages":[{"role":"assistant","content":null,"tool_calls":[{"type":"function","function":{"name":"f","arguments":{}}}]}]}\n`,
        "line 1 is not a CHAT example: messages[0].tool_calls[0].function.arguments must be a string (JSON text)",
      ],
      [
        "CHAT",
        `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":"http://x"}]}]}\n`,
        'line 1 is not a CHAT example: messages[0].content[0].image_url must be {"url": "…"}',
      ],
      [
        "CHAT",
        `{"messages":[{"role":"assistant","content":"a","weight":-1}]}\n`,
        "line 1 is not a CHAT example: messages[0].weight must be a number ≥ 0, not -1",
      ],
      ["CHAT", `{"messages":[{"role":"user","content":"a"}],"weight":"x"}\n`, 'line 1 is not a CHAT example: "weight" must be a number ≥ 0, not "x"'],
      [
        "CHAT",
        `{"input":{"messages":[{"role":"user","content":"a"}]},"preferred_output":[{"role":"user","content":"b"}],"non_preferred_output":[{"role":"assistant","content":"c"}]}\n`,
        "line 1 is not a CHAT example: preferred_output[0].role must be assistant",
      ],
      [
        "CHAT",
        `{"input":{"messages":[{"role":"user","content":"a"}]},"preferred_output":[{"role":"assistant","content":"b"}]}\n`,
        "line 1 is not a CHAT example: non_preferred_output must be a non-empty array of messages",
      ],
      ["CHAT", `{"messages":["hi"]}\n`, "line 1 is not a CHAT example: messages[0] is not an object"],
      ["CHAT", COMPLETION, 'line 1 is not a CHAT example: it needs "messages", a non-empty array of {"role", "content"} objects'],
      ["COMPLETION", `${COMPLETION}${CHAT}`, 'line 2 is not a COMPLETION example: it needs "prompt", a string'],
      ["COMPLETION", `{"prompt":"a","completion":4}\n`, 'line 1 is not a COMPLETION example: it needs "completion", a string, not 4'],
      // A value nested deeper than JSON.stringify can write out was a 500.
      [
        "COMPLETION",
        `{"prompt":"a","completion":${"[".repeat(200_000)}${"]".repeat(200_000)}}\n`,
        'line 1 is not a COMPLETION example: it needs "completion", a string, not an array nested too deep to quote',
      ],
    ];
    for (const [format, body, message] of REFUSED) {
      test(`${format}: ${JSON.stringify(body.slice(0, 60))}… is refused: ${message}`, async () => {
        const id = await dataset({ format });
        const res = await upload(h, h.adminKey, "my-account", id, body);
        assert.equal(res.status, 400);
        assert.equal(((await res.json()) as any).error.message, message);
        const after = await h.call("GET", `${A}/datasets/${id}`);
        assert.deepEqual([after.body.state, after.body.exampleCount], ["UPLOADING", "0"], "nothing is stored");
      });
    }

    test("lines of the dataset's format are taken, their other fields kept", async () => {
      const chat = '{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Yo","weight":0}],"tools":[]}\n';
      // OpenAI's fine-tuning lines as Fireworks takes them unchanged: tool calls and their results,
      // vision parts, thinking traces and weights; and DPO preference pairs.
      const openAi = [
        {
          messages: [
            { role: "system", content: "You call tools." },
            { role: "user", content: "Weather in Paris?" },
            {
              role: "assistant",
              content: null,
              tool_calls: [{ id: "call_1", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } }],
            },
            { role: "tool", tool_call_id: "call_1", content: "18C" },
            { role: "assistant", content: "18C and sunny.", reasoning_content: "The tool said 18C.", weight: 1 },
          ],
          tools: [{ type: "function", function: { name: "weather", parameters: { type: "object" } } }],
          weight: 0.5,
        },
        {
          messages: [
            {
              role: "user",
              content: [
                { type: "text", text: "What is this?" },
                { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
              ],
            },
            { role: "assistant", content: "A pixel." },
          ],
        },
        {
          input: { messages: [{ role: "user", content: "Say hi" }] },
          preferred_output: [{ role: "assistant", content: "Hi!" }],
          non_preferred_output: [{ role: "assistant", content: "No." }],
        },
      ]
        .map((line) => `${JSON.stringify(line)}\n`)
        .join("");
      const openAiSet = await dataset({ format: "CHAT" });
      const taken = await upload(h, h.adminKey, "my-account", openAiSet, openAi);
      assert.equal(taken.status, 200, await taken.clone().text());
      assert.equal(((await taken.json()) as any).exampleCount, "3");
      for (const [format, body] of [
        ["CHAT", chat],
        ["COMPLETION", `${COMPLETION}{"prompt":"","completion":"","id":7}\n`],
      ] as const) {
        const id = await dataset({ format });
        const res = await upload(h, h.adminKey, "my-account", id, body);
        assert.equal(res.status, 200, await res.clone().text());
        assert.equal(((await res.json()) as any).format, format);
        const download = await fetch(`${h.baseUrl}${A}/datasets/${id}:download`, { headers: { authorization: `Bearer ${h.adminKey}` } });
        assert.equal(await download.text(), body);
      }
    });
  });
}
