import assert from "node:assert/strict";
import { test } from "node:test";
import { namedAsRequested } from "./requested-model.ts";

const REQUESTED = "accounts/acme/models/llama";

/** An edit, when made, must give what parsing would: the same object with the requested `model`. */
function assertSound(json: string, named: string | undefined): void {
  if (named === undefined) return;
  assert.deepEqual(JSON.parse(named), { ...JSON.parse(json), model: REQUESTED }, `${json} became ${named}`);
}

test("answers as OpenAI-compatible servers send them are named by editing their text, the rest byte for byte", () => {
  const cases: Array<[string, string]> = [
    ['{"id":"c1","object":"chat.completion","model":"up","choices":[]}', `{"id":"c1","object":"chat.completion","model":"${REQUESTED}","choices":[]}`],
    ['{"id":"c1", "model" : "up\\"s", "choices":[]}', `{"id":"c1", "model":"${REQUESTED}", "choices":[]}`],
    [
      '{"id":"c1","choices":[{"message":{"content":"say \\"model\\" twice"}}]}',
      `{"model":"${REQUESTED}","id":"c1","choices":[{"message":{"content":"say \\"model\\" twice"}}]}`,
    ],
    [' {"id":"c1"}', ` {"model":"${REQUESTED}","id":"c1"}`],
    ["{ }", `{"model":"${REQUESTED}" }`],
    [`{"model":"${REQUESTED}","id":"c1"}`, `{"model":"${REQUESTED}","id":"c1"}`],
  ];
  for (const [json, want] of cases) {
    assert.equal(namedAsRequested(json, REQUESTED), want, json);
    assertSound(json, want);
  }
});

test("text an edit cannot be sure of is left to the parser: duplicates, nesting, escapes, non-string values", () => {
  const unsure = [
    '{"meta":{"model":"inner"},"model":"up"}',
    '{"model":null,"meta":{"model":"x"}}',
    '{"x":{"model":"x"}}',
    '{"model":{"model":"x"}}',
    '{"model":"a","model":"b"}',
    '{"model":"a","model":null}',
    '{"\\"model":"v"}',
    '{"\\u006dodel":"up"}',
    '{"mod\\u0065l":"up"}',
    '{"model":7}',
    '{"object":"model"}',
    '[{"model":"up"}]',
    '"model"',
  ];
  for (const json of unsure) assert.equal(namedAsRequested(json, REQUESTED), undefined, json);
});

test("no edit ever gives invalid JSON or another top-level model (generated answers)", () => {
  // Members drawn from those that trip text edits: models at every depth and spelling, escapes, whitespace.
  const parts = [
    '"model":"up"',
    '"model" : "u\\"p"',
    '"model":null',
    '"model":3',
    '"\\u006dodel":"esc"',
    '"meta":{"model":"inner"}',
    '"list":[{"model":"x"},"model"]',
    '"content":"a \\"model\\": \\"b\\""',
    '"id":"c1"',
    '"n":{"a":[1,{"b":"}"}]}',
    '"s":"{\\\\"',
    '"model\\\\":"k"',
  ];
  let seed = 17;
  const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
  const spaces = ["", " ", "\n", "\t "];
  let edited = 0;
  for (let i = 0; i < 20_000; i++) {
    const members = Array.from({ length: random(4) }, () => parts[random(parts.length)]!);
    const json = `${spaces[random(4)]}{${spaces[random(4)]}${members.join(`,${spaces[random(4)]}`)}${spaces[random(4)]}}`;
    const named = namedAsRequested(json, REQUESTED);
    assertSound(json, named);
    if (named !== undefined) edited++;
  }
  assert.ok(edited > 2_000, `only ${edited} of 20,000 were edited`);
});
