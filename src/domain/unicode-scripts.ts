/**
 * @module Mixed-script detection after Unicode UTS #39 §5.2, level "Highly Restrictive": the
 * characters of one label (an email's local part, one label of its domain) are all of one script,
 * or of one of the combinations Latin + Han + Hiragana + Katakana, Latin + Han + Bopomofo and
 * Latin + Han + Hangul. Common and Inherited characters (digits, `-`, `.`, combining marks) go with
 * any script. So `аdmin` (a Cyrillic а among Latin letters) mixes scripts, `админ` and `admin` do
 * not, nor does `山田taro`. Scripts are read with the engine's own Unicode data
 * (`\p{Script_Extensions=…}`), so no table needs updating by hand.
 */

/**
 * ISO 15924 codes of the scripts of Unicode 17 (Common `Zyyy`, Inherited `Zinh` and Unknown `Zzzz`
 * left out). A script added to Unicode later counts as one more script, `Zzzz`, until listed here.
 */
const SCRIPTS =
  "Adlm Aghb Ahom Arab Armi Armn Avst Bali Bamu Bass Batk Beng Berf Bhks Bopo Brah Brai Bugi Buhd Cakm Cans Cari Cham Cher Chrs Copt Cpmn Cprt Cyrl Deva Diak Dogr Dsrt Dupl Egyp Elba Elym Ethi Gara Geor Glag Gong Gonm Goth Gran Grek Gujr Gukh Guru Hang Hani Hano Hatr Hebr Hira Hluw Hmng Hmnp Hung Ital Java Kali Kana Kawi Khar Khmr Khoj Kits Knda Krai Kthi Lana Laoo Latn Lepc Limb Lina Linb Lisu Lyci Lydi Mahj Maka Mand Mani Marc Medf Mend Merc Mero Miao Mlym Modi Mong Mroo Mtei Mult Mymr Nagm Nand Narb Nbat Newa Nkoo Nshu Ogam Olck Onao Orkh Orya Osge Osma Ougr Palm Pauc Perm Phag Phli Phlp Phnx Plrd Prti Rjng Rohg Runr Samr Sarb Saur Sgnw Shaw Shrd Sidd Sidt Sind Sinh Sogd Sogo Sora Soyo Sund Sunu Sylo Syrc Tagb Takr Tale Talu Taml Tang Tavt Tayo Telu Tfng Tglg Thaa Thai Tibt Tirh Tnsa Todr Tols Toto Tutg Ugar Vaii Vith Wara Wcho Xpeo Xsux Yezi Yiii Zanb"
    .split(" ")
    .flatMap((code) => {
      try {
        return [{ code, test: new RegExp(`^\\p{scx=${code}}$`, "u") }];
      } catch {
        return []; // an engine with older Unicode data than this list
      }
    });

/** Characters of no particular script (Common and Inherited, with no script extensions). */
const ANY_SCRIPT = /^[\p{scx=Zyyy}\p{scx=Zinh}]$/u;

/** UTS #39 "highly restrictive" combinations beyond a single script. */
const COMBINATIONS: ReadonlyArray<ReadonlySet<string>> = [
  new Set(["Latn", "Hani", "Hira", "Kana"]),
  new Set(["Latn", "Hani", "Bopo"]),
  new Set(["Latn", "Hani", "Hang"]),
];

/** The scripts of one character (its Script_Extensions); undefined for Common and Inherited ones. */
function scriptsOf(char: string): ReadonlySet<string> | undefined {
  if (char.charCodeAt(0) < 0x80) return /[a-z]/i.test(char) ? LATIN : undefined;
  if (ANY_SCRIPT.test(char)) return undefined;
  const found = SCRIPTS.filter((s) => s.test.test(char)).map((s) => s.code);
  return new Set(found.length ? found : ["Zzzz"]);
}
const LATIN: ReadonlySet<string> = new Set(["Latn"]);

const intersects = (a: ReadonlySet<string>, b: ReadonlySet<string>): boolean => [...a].some((s) => b.has(s));

/** Whether every set of `sets` shares one script, or fits within one of the allowed combinations. */
function oneScript(sets: ReadonlyArray<ReadonlySet<string>>): boolean {
  if (sets.length === 0) return true;
  const common = [...sets[0]!].filter((s) => sets.every((set) => set.has(s)));
  return common.length > 0 || COMBINATIONS.some((combo) => sets.every((set) => intersects(set, combo)));
}

/** The English name of an ISO 15924 script code (`Cyrl` → `Cyrillic`). */
const scriptName = (code: string): string => new Intl.DisplayNames(["en"], { type: "script" }).of(code) ?? code;

/** Where a label leaves its script: the character, its position, its script and the label's. */
export interface ScriptMix {
  /** Position in the label, in UTF-16 code units from 0. */
  index: number;
  char: string;
  /** English name of the character's script, e.g. `Cyrillic`. */
  script: string;
  /** English name of the script the rest of the label is written in, e.g. `Latin`. */
  among: string;
}

/**
 * The first character of `label` that breaks UTS #39's "highly restrictive" level, or undefined
 * when the label keeps to it. The character named is one outside the label's most used script
 * (in `аdmin` the Cyrillic `а` at 0, not the Latin `d`).
 */
export function scriptMix(label: string): ScriptMix | undefined {
  const chars: Array<{ index: number; char: string; scripts: ReadonlySet<string> }> = [];
  let index = 0;
  for (const char of label) {
    const scripts = scriptsOf(char);
    if (scripts) chars.push({ index, char, scripts });
    index += char.length;
  }
  if (oneScript(chars.map((c) => c.scripts))) return undefined;
  const counts = new Map<string, number>();
  for (const c of chars) for (const s of c.scripts) counts.set(s, (counts.get(s) ?? 0) + 1);
  const main = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
  const odd = chars.find((c) => !c.scripts.has(main))!;
  return { index: odd.index, char: odd.char, script: scriptName([...odd.scripts][0]!), among: scriptName(main) };
}
