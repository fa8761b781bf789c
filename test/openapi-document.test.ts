import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import { DIALECTS, startHearth, type TestHearth } from "./support/hearth.ts";
import { operationsOf, resolveSchema, schemaValidator, type OpenApiDocument } from "./support/openapi.ts";

/** Operations whose only success is a redirect of the browser (302 with a Location), not a body. */
const REDIRECT_ONLY = ["StartCliSignIn", "StartOidcSignIn"];

for (const dialect of DIALECTS) {
  describe(`/openapi.json (${dialect})`, () => {
    let h: TestHearth;
    let doc: OpenApiDocument;
    before(async () => {
      h = await startHearth(dialect);
      const res = await h.call("GET", "/openapi.json", { key: null });
      assert.equal(res.status, 200);
      doc = res.body;
    });
    after(() => h.stop());

    test("passes an OpenAPI 3.1 validator", async () => {
      const validator = new Validator();
      const result = await validator.validate(doc as unknown as Record<string, unknown>);
      assert.deepEqual(result.errors, undefined);
      assert.equal(result.valid, true);
      assert.equal(validator.version, "3.1");
    });

    test("every operation declares a full schema for its 2xx answer (or is a redirect), and every schema compiles", () => {
      const compile = schemaValidator(doc);
      const operations = operationsOf(doc);
      assert.ok(operations.length >= 50, `only ${operations.length} operations`);
      const bare: string[] = [];
      const redirects: string[] = [];
      for (const op of operations) {
        const success = Object.entries(op.responses).filter(([status]) => /^2\d\d$/.test(status));
        if (success.length === 0) {
          const redirect = op.responses["302"];
          assert.ok(redirect?.headers?.Location, `${op.operationId} declares neither a 2xx answer nor a redirect`);
          redirects.push(op.operationId);
          continue;
        }
        for (const [status, response] of success) {
          const media = Object.entries(response.content ?? {});
          assert.ok(media.length > 0, `${op.operationId} ${status} declares no content`);
          for (const [type, { schema }] of media) {
            // An answer of one of several shapes (anyOf) is full when each of its shapes is.
            const resolved = resolveSchema(doc, schema);
            const shapes = Array.isArray(resolved.anyOf) ? (resolved.anyOf as (typeof resolved)[]).map((s) => resolveSchema(doc, s)) : [resolved];
            for (const full of shapes) {
              const object = full.type === "object" || full.properties !== undefined;
              if (!full.type && !full.$ref) bare.push(`${op.operationId} ${status} ${type}: no type`);
              else if (object && full.properties === undefined && full.additionalProperties === undefined)
                bare.push(`${op.operationId} ${status} ${type}: bare object`);
            }
            compile(schema);
          }
        }
      }
      assert.deepEqual(bare, []);
      assert.deepEqual(redirects.sort(), REDIRECT_ONLY);
    });

    test("every reference names a declared component", () => {
      const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
      assert.ok(refs.length > 0);
      for (const ref of new Set(refs)) assert.ok(doc.components.schemas[ref], `no component ${ref}`);
    });
  });
}
