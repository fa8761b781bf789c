/**
 * @module Which email addresses Hearth accepts as an identity. An email names a principal in the
 * audit log and in every list, so two addresses that read alike must not both exist: besides the
 * shape (RFC 5321 §4.1.2 dot-atom local part and domain, without quoted local parts or address
 * literals; RFC 6531 internationalised addresses allowed), an address is refused when it holds an
 * invisible, format or control character (U+200B makes `admin\u200b@example.com` read as
 * `admin@example.com`; U+202E reverses what follows), and when its local part or one of its domain
 * labels mixes scripts beyond Unicode UTS #39 "highly restrictive" (`аdmin` with a Cyrillic а among
 * Latin letters). An all-Cyrillic `иван@пример.рф` is accepted, and so is an A-label (`xn--…`)
 * whose Unicode form keeps to one script.
 */
import { domainToUnicode } from "node:url";
import { scriptMix } from "./unicode-scripts.ts";

// Separators (spaces of every width), controls, format characters (Cf), surrogates, private-use
// and unassigned code points, and the default-ignorable ones that draw nothing (Hangul fillers,
// variation selectors, the combining grapheme joiner).
const REFUSED = /[\s\p{Z}\p{C}\p{Default_Ignorable_Code_Point}]/u;

// A local part without spaces, quotes, brackets or `@`; a domain of letter-digit-hyphen labels of
// any script, with at least one dot.
const LABEL = String.raw`[\p{L}\p{N}](?:[\p{L}\p{M}\p{N}-]*[\p{L}\p{M}\p{N}])?`;
const EMAIL = new RegExp(String.raw`^[^@"<>()\[\],;:\\]+@${LABEL}(?:\.${LABEL})+$`, "u");

/** RFC 5321 §4.5.3.1.3: a path holds at most 256 octets, so an address at most 254. */
const MAX_OCTETS = 254;

/** What is wrong with an email address; `field-rules.ts` words it. Positions count UTF-16 code units from 0. */
export type EmailFault =
  | { kind: "character"; char: string; index: number }
  | { kind: "shape" }
  | { kind: "aLabel"; label: string }
  | { kind: "scripts"; char: string; index: number | undefined; aLabel: string | undefined; script: string; among: string };

/** Why `email` (NFC-normalised first) is not an address Hearth accepts, or undefined when it is. */
export function emailFault(email: string): EmailFault | undefined {
  const text = email.normalize("NFC");
  const odd = REFUSED.exec(text);
  if (odd) return { kind: "character", char: odd[0], index: odd.index };
  if (new TextEncoder().encode(text).length > MAX_OCTETS || !EMAIL.test(text)) return { kind: "shape" };
  const at = text.lastIndexOf("@");
  const labels: Array<[string, number]> = [[text.slice(0, at), 0]];
  let start = at + 1;
  for (const label of text.slice(at + 1).split(".")) {
    labels.push([label, start]);
    start += label.length + 1;
  }
  for (const [label, offset] of labels) {
    const aLabel = /^xn--/i.test(label) ? label : undefined;
    const unicode = aLabel ? domainToUnicode(aLabel) : label;
    if (unicode === "" || /^xn--/i.test(unicode)) return { kind: "aLabel", label };
    const mix = scriptMix(unicode);
    if (mix) return { kind: "scripts", char: mix.char, index: aLabel ? undefined : offset + mix.index, aLabel, script: mix.script, among: mix.among };
  }
  return undefined;
}

/** `email` as Hearth stores it: NFC, lowercased (Unicode default, locale-independent). */
export const normalizedEmail = (email: string): string => email.normalize("NFC").toLowerCase().normalize("NFC");
