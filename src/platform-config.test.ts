import assert from "node:assert/strict";
import { test } from "node:test";
import { parsePlatformConfig } from "./platform-config.ts";

const backend = { name: "vllm", baseUrl: "http://127.0.0.1:8000/v1/", models: [{ id: "llama", inputPricePerMillionTokens: 0.2 }] };

test("a valid file becomes a frozen configuration with defaults", () => {
  const c = parsePlatformConfig(JSON.stringify({ backends: [backend] }));
  assert.equal(c.publicAccountId, "fireworks");
  assert.equal(c.backends.get("vllm")!.baseUrl, "http://127.0.0.1:8000/v1");
  assert.equal(c.backends.get("vllm")!.timeoutMs, 120_000);
  assert.deepEqual(c.publicModels.get("llama"), {
    id: "llama",
    displayName: "llama",
    upstreamModel: "llama",
    inputPricePerMillionTokens: 0.2,
    outputPricePerMillionTokens: 0,
    maxCostPerRequestUsd: undefined, // the gateway then reserves its default (docs/inference.md, "Spend reservations")
    kind: "HF_BASE_MODEL",
    backend: "vllm",
  });
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.backends.get("vllm")));
});

test("a model declares Fireworks' kind: EMBEDDING_MODEL for an embedder", () => {
  const c = parsePlatformConfig(JSON.stringify({ backends: [{ ...backend, models: [{ id: "embed", kind: "EMBEDDING_MODEL" }] }] }));
  assert.equal(c.publicModels.get("embed")!.kind, "EMBEDDING_MODEL");
});

test("the credential may come from the environment", () => {
  const c = parsePlatformConfig(JSON.stringify({ backends: [{ ...backend, apiKeyEnv: "VLLM_KEY" }] }), { VLLM_KEY: "s3cret" });
  assert.equal(c.backends.get("vllm")!.apiKey, "s3cret");
});

test("a bad file is refused with a sentence naming the problem (and never the credential)", () => {
  const cases: Array<[string, RegExp]> = [
    ["{", /^invalid HEARTH_CONFIG: the file is not valid JSON/],
    [JSON.stringify({ backends: [{ ...backend, baseUrl: "ftp://x" }] }), /^invalid HEARTH_CONFIG: field "backends.0.baseUrl" must be an http/],
    [JSON.stringify({ backends: [{ ...backend, name: "Bad Name" }] }), /field "backends.0.name" backend name must be/],
    [JSON.stringify({ backends: [backend, backend] }), /backend "vllm" is declared twice/],
    [JSON.stringify({ backends: [{ ...backend, apiKey: "s3cret", apiKeyEnv: "X" }] }), /give apiKey or apiKeyEnv, not both/],
    [JSON.stringify({ backends: [{ ...backend, apiKeyEnv: "MISSING_KEY" }] }), /names apiKeyEnv MISSING_KEY, which is not set/],
    [JSON.stringify({ backendz: [] }), /Unrecognized key/],
    [JSON.stringify({ backends: [{ ...backend, apiKey: "s3cret", timeoutMs: -1 }] }), /field "backends.0.timeoutMs"/],
    [JSON.stringify({ backends: [{ ...backend, models: [{ id: "e", kind: "EMBEDDING" }] }] }), /field "backends.0.models.0.kind"/],
    // Regression (fuzzer): a field given twice was read as its last value.
    [
      `{"backends": [{"name": "vllm", "baseUrl": "http://127.0.0.1:8000/v1", "baseUrl": "http://10.0.0.9/v1"}]}`,
      /^invalid HEARTH_CONFIG: the file gives field "baseUrl" twice in one object: give it once$/,
    ],
  ];
  for (const [text, message] of cases) {
    assert.throws(
      () => parsePlatformConfig(text, {}),
      (e: Error) => message.test(e.message) && !e.message.includes("s3cret"),
      text,
    );
  }
});
