import { parse } from "content-type";
import { quoted } from "../domain/display-text.ts";

/** A `charset` parameter as it is declared, counted before parsing: the parser keeps the first of a name. */
const CHARSET_PARAMETER = /;\s*charset\s*=/gi;

/**
 * The refusal of a JSON body declared in a charset other than UTF-8 (`Content-Type:
 * application/json; charset=latin1`), or undefined. JSON exchanged between systems is UTF-8
 * (RFC 8259 §8.1) and `application/json` defines no charset parameter (§11); one naming UTF-8 is
 * accepted, as clients send it, but another would have its bytes read as what they are not. The
 * header is parsed with the `content-type` package, which keeps the first of a repeated parameter
 * and drops one it cannot read (an unclosed quote): a charset declared twice or unreadably is
 * refused too, so `charset=utf-8; charset=latin1` does not pass as UTF-8.
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
  const declared = contentType.match(CHARSET_PARAMETER)?.length ?? 0;
  if (declared > 1) return "the charset parameter is given more than once in Content-Type: give it once, as UTF-8 (RFC 8259 §8.1)";
  if (charset === undefined && declared > 0) return "the charset parameter of Content-Type cannot be read: send the body in UTF-8 (RFC 8259 §8.1)";
  if (charset === undefined || /^utf-?8$/i.test(charset)) return undefined;
  return `unsupported charset ${quoted(charset.slice(0, 40))} for application/json: send the body in UTF-8 (RFC 8259 §8.1)`;
}
