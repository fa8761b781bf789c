import { parse } from "content-type";
import { quoted } from "../domain/display-text.ts";

/**
 * The refusal of a JSON body declared in a charset other than UTF-8 (`Content-Type:
 * application/json; charset=latin1`), or undefined. JSON exchanged between systems is UTF-8
 * (RFC 8259 §8.1) and `application/json` defines no charset parameter (§11); one naming UTF-8 is
 * accepted, as clients send it, but another would have its bytes read as what they are not. The
 * header is parsed with the `content-type` package.
 */
export function jsonCharsetRefusal(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  let charset: string | undefined;
  try {
    charset = parse(contentType).parameters.charset;
  } catch {
    // Not a media type this parser reads; the framework matched it as JSON, so it is read as UTF-8.
    return undefined;
  }
  if (charset === undefined || /^utf-?8$/i.test(charset)) return undefined;
  return `unsupported charset ${quoted(charset.slice(0, 40))} for application/json: send the body in UTF-8 (RFC 8259 §8.1)`;
}
