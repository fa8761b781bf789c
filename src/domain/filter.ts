import { invalidArgument } from "./errors.ts";
import { quoted } from "./display-text.ts";

/**
 * The one AIP-160 filter parser (subset) used by every list. It only builds a syntax tree; what a
 * field means and how it is queried is decided where the tree is compiled (store/filter-sql.ts).
 *
 * Grammar (AIP-160 precedence: OR binds tighter than AND; whitespace between terms means AND):
 *   filter     := sequence
 *   sequence   := factor { [AND] factor }
 *   factor     := term { OR term }
 *   term       := [NOT | -] simple
 *   simple     := "(" sequence ")" | field op value
 *   op         := = | != | < | > | <= | >= | :
 * Positions in errors are 1-based character columns.
 */
type Comparator = "=" | "!=" | "<" | ">" | "<=" | ">=" | ":";

export interface FilterValue {
  text: string;
  quoted: boolean;
  pos: number;
}

export type FilterExpr =
  | { kind: "and"; items: FilterExpr[] }
  | { kind: "or"; items: FilterExpr[] }
  | { kind: "not"; item: FilterExpr }
  | { kind: "compare"; field: string; fieldPos: number; op: Comparator; value: FilterValue };

type Token =
  | { type: "word"; text: string; pos: number }
  | { type: "string"; text: string; pos: number }
  | { type: "op"; text: Comparator; pos: number }
  | { type: "lparen" | "rparen" | "end"; pos: number };

const MAX_FILTER_LENGTH = 2048;
const MAX_DEPTH = 32;

function fail(message: string, pos: number): never {
  throw invalidArgument(`invalid filter: ${message} at position ${pos}`);
}

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const ch = input[i]!;
    const pos = i + 1;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === "(") {
      tokens.push({ type: "lparen", pos });
      i++;
    } else if (ch === ")") {
      tokens.push({ type: "rparen", pos });
      i++;
    } else if (ch === '"' || ch === "'") {
      let text = "";
      i++;
      for (;;) {
        if (i >= input.length) fail("unterminated string", pos);
        const c = input[i]!;
        if (c === "\\" && i + 1 < input.length) {
          text += input[i + 1];
          i += 2;
        } else if (c === ch) {
          i++;
          break;
        } else {
          text += c;
          i++;
        }
      }
      tokens.push({ type: "string", text, pos });
    } else if ("<>=!:".includes(ch)) {
      const two = input.slice(i, i + 2);
      if (two === "<=" || two === ">=" || two === "!=") {
        tokens.push({ type: "op", text: two, pos });
        i += 2;
      } else if (ch === "!") {
        fail("unexpected '!' (did you mean '!=')", pos);
      } else {
        tokens.push({ type: "op", text: ch as Comparator, pos });
        i++;
      }
    } else if (ch === "-" && tokens.at(-1)?.type !== "op") {
      // A leading '-' negates the term that follows (AIP-160); after an operator it is part of a value.
      tokens.push({ type: "word", text: "-", pos });
      i++;
    } else {
      // A bare value may contain ':' (timestamps); a field name may not.
      const stop = tokens.at(-1)?.type === "op" ? /[\s()"']/ : /[\s()<>=!:"']/;
      let j = i;
      while (j < input.length && !stop.test(input[j]!)) j++;
      tokens.push({ type: "word", text: input.slice(i, j), pos });
      i = j;
    }
  }
  tokens.push({ type: "end", pos: input.length + 1 });
  return tokens;
}

/** `text` in single quotes, escaped as `quoted` escapes it, so a bidi control in a filter cannot reorder the message. */
const inQuotes = (text: string): string => `'${quoted(text).slice(1, -1)}'`;

function describe(token: Token): string {
  switch (token.type) {
    case "end":
      return "end of filter";
    case "lparen":
      return "'('";
    case "rparen":
      return "')'";
    case "string":
      return `string ${quoted(token.text)}`;
    default:
      return inQuotes(token.text);
  }
}

class Parser {
  private index = 0;
  private depth = 0;
  private readonly tokens: Token[];

  constructor(tokens: Token[]) {
    this.tokens = tokens;
  }

  private peek(): Token {
    return this.tokens[this.index]!;
  }

  private next(): Token {
    return this.tokens[this.index++]!;
  }

  private isKeyword(word: string): boolean {
    const t = this.peek();
    return t.type === "word" && t.text === word;
  }

  parseAll(): FilterExpr {
    const expr = this.sequence();
    const t = this.peek();
    if (t.type !== "end") fail(`unexpected ${describe(t)}`, t.pos);
    return expr;
  }

  private sequence(): FilterExpr {
    const items = [this.factor()];
    for (;;) {
      const t = this.peek();
      if (t.type === "end" || t.type === "rparen") break;
      if (this.isKeyword("AND")) this.next();
      items.push(this.factor());
    }
    return items.length === 1 ? items[0]! : { kind: "and", items };
  }

  private factor(): FilterExpr {
    const items = [this.term()];
    while (this.isKeyword("OR")) {
      this.next();
      items.push(this.term());
    }
    return items.length === 1 ? items[0]! : { kind: "or", items };
  }

  private term(): FilterExpr {
    const t = this.peek();
    if (this.isKeyword("NOT")) {
      this.next();
      return { kind: "not", item: this.simple() };
    }
    if (t.type === "word" && t.text === "-") {
      this.next();
      return { kind: "not", item: this.simple() };
    }
    return this.simple();
  }

  private simple(): FilterExpr {
    const t = this.next();
    if (t.type === "lparen") {
      if (++this.depth > MAX_DEPTH) fail("too deeply nested", t.pos);
      const inner = this.sequence();
      const close = this.next();
      if (close.type !== "rparen") fail(`expected ')' but found ${describe(close)}`, close.pos);
      this.depth--;
      return inner;
    }
    if (t.type !== "word" || ["AND", "OR", "NOT"].includes(t.text)) {
      fail(`expected a field name but found ${describe(t)}`, t.pos);
    }
    if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(t.text)) fail(`invalid field name ${inQuotes(t.text)}`, t.pos);
    const op = this.next();
    if (op.type !== "op") fail(`expected a comparison operator after '${t.text}' but found ${describe(op)}`, op.pos);
    const value = this.next();
    if (value.type !== "word" && value.type !== "string") {
      fail(`expected a value after '${op.text}' but found ${describe(value)}`, value.pos);
    }
    return {
      kind: "compare",
      field: t.text,
      fieldPos: t.pos,
      op: op.text,
      value: { text: value.text, quoted: value.type === "string", pos: value.pos },
    };
  }
}

/** Parses an AIP-160 filter; an empty filter yields `undefined`. Errors are INVALID_ARGUMENT with a position. */
export function parseFilter(input: string | undefined): FilterExpr | undefined {
  if (input === undefined || input.trim() === "") return undefined;
  if (input.length > MAX_FILTER_LENGTH) {
    throw invalidArgument(`invalid filter: longer than ${MAX_FILTER_LENGTH} characters`);
  }
  return new Parser(tokenize(input)).parseAll();
}
