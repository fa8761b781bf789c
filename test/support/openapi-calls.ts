import assert from "node:assert/strict";
import type { TestHearth } from "./hearth.ts";
import type { OpenApiDocument, Operation } from "./openapi.ts";

/** A request built from an operation's declared examples. */
export interface BuiltRequest {
  url: string;
  init: RequestInit;
  /** The collection (path template) of the resource the request names last: what a delete consumes. */
  target?: string;
}

const lastSegment = (name: string): string => name.slice(name.lastIndexOf("/") + 1);

/**
 * Calls a Hearth's operations as `/openapi.json` declares them: every value comes from the
 * operation's examples, except the ids of resources, which name resources this caller made
 * through the API itself (a collection's POST, else its declared example, else the first item its
 * GET lists). Made resources are held per collection path template, so one of each kind is reused.
 */
export class OperationCaller {
  private readonly held = new Map<string, string>();
  private readonly h: TestHearth;
  private readonly doc: OpenApiDocument;
  private readonly ops: Operation[];

  constructor(h: TestHearth, doc: OpenApiDocument, ops: Operation[]) {
    this.h = h;
    this.doc = doc;
    this.ops = ops;
  }

  /** The id of a resource of `collection` (a path template), made or found on first need. */
  async hold(collection: string, example?: unknown): Promise<string> {
    const known = this.held.get(collection);
    if (known !== undefined) return known;
    const create = this.ops.find((o) => o.method === "POST" && o.path === collection);
    const list = this.ops.find((o) => o.method === "GET" && o.path === collection);
    if (create) {
      const res = await this.send(await this.build(create));
      const text = await res.text();
      assert.equal(res.status, 200, `making a resource with ${create.operationId}: ${text}`);
      this.record(create, JSON.parse(text));
    } else if (example !== undefined) {
      return String(example);
    } else if (list) {
      const res = await this.send(await this.build(list));
      const text = await res.text();
      assert.equal(res.status, 200, `listing with ${list.operationId}: ${text}`);
      const items = Object.values(JSON.parse(text) as Record<string, unknown>).find(Array.isArray) as Array<{ name: string }> | undefined;
      assert.ok(items?.[0], `${list.operationId} lists nothing to name`);
      this.held.set(collection, lastSegment(items[0].name));
    }
    const id = this.held.get(collection);
    assert.ok(id !== undefined, `no way to name a resource of ${collection}`);
    return id;
  }

  /** Notes the resource a successful creation (a POST on a collection that has items) made. */
  record(op: Operation, body: unknown): void {
    const isCollection = Object.keys(this.doc.paths).some((p) => p.startsWith(`${op.path}/{`) && /^\{\w+\}$/.test(p.slice(op.path.length + 1)));
    const name = (body as { name?: unknown } | null)?.name;
    if (op.method === "POST" && isCollection && typeof name === "string") this.held.set(op.path, lastSegment(name));
  }

  /** Forgets a resource that was deleted: the next need makes another. */
  forget(collection: string): void {
    this.held.delete(collection);
  }

  /** The request of `op`: path values (`given` first), query examples, the body's example. */
  async build(op: Operation, given: Record<string, string> = {}): Promise<BuiltRequest> {
    let url = op.path;
    let target: string | undefined;
    const query = new URLSearchParams();
    for (const p of op.parameters) {
      const example = p.schema.examples?.[0];
      if (p.in === "query") {
        const value = given[p.name] ?? example;
        if (value !== undefined) query.set(p.name, String(value));
        continue;
      }
      const collection = op.path.slice(0, op.path.indexOf(`{${p.name}}`) - 1);
      const value = given[p.name] ?? (await this.hold(collection, example));
      if (given[p.name] === undefined) target = collection;
      url = url.replace(`{${p.name}}`, encodeURIComponent(value));
    }
    const headers: Record<string, string> = { authorization: `Bearer ${this.h.adminKey}` };
    const init: RequestInit = { method: op.method, headers, redirect: "manual" };
    const content = Object.entries(op.requestBody?.content ?? {});
    const json = op.requestBody?.content["application/json"];
    if (json) {
      assert.ok(json.schema.examples?.length, `${op.operationId} declares no example request body`);
      const body = structuredClone(json.schema.examples[0]) as Record<string, unknown>;
      // A body field naming an item of the collection (`keyId` of POST …/apiKeys:delete) names one the caller holds.
      const base = op.path.split(":")[0]!;
      for (const field of Object.keys(body)) {
        if (!this.doc.paths[`${base}/{${field}}`]) continue;
        body[field] = await this.hold(base);
        target = base;
      }
      headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    } else if (content.length) {
      const [type, { schema }] = content.find(([, c]) => c.schema.examples?.length) ?? assert.fail(`${op.operationId} declares no example request body`);
      headers["content-type"] = type;
      init.body = String(schema.examples![0]);
    }
    return { url: `${url}${query.size ? `?${query}` : ""}`, init, ...(target ? { target } : {}) };
  }

  send(req: BuiltRequest): Promise<Response> {
    return fetch(`${this.h.baseUrl}${req.url}`, req.init);
  }
}
