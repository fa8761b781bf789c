import type { Command } from "commander";

/**
 * Fireworks' firectl grammar: every resource command exists as noun-verb (`firectl user create`)
 * and as verb-noun (`firectl create user`). Each command is described once, as a `Verb`, and
 * defined on both trees from that one description.
 */
type VerbName =
  "create" | "get" | "list" | "update" | "delete" | "scale" | "undelete" | "disable" | "enable" | "rotate" | "export" | "deliveries" | "redeliver";

export interface Noun {
  name: string;
  aliases: string[];
  description: string;
}

export interface Verb {
  noun: string;
  verb: VerbName;
  summary: string;
  /** Lines of the help's "Examples" section, written noun-verb. */
  examples: string[];
  /** Declares the arguments and options and attaches the action. */
  define(command: Command): void;
}

const VERB_DESCRIPTIONS: Readonly<Record<VerbName, string>> = {
  create: "create a resource",
  get: "show one resource",
  list: "list resources",
  update: "change a resource",
  delete: "delete a resource",
  scale: "set a resource's replica count",
  undelete: "restore a deleted resource",
  disable: "disable a resource",
  enable: "enable a disabled resource",
  rotate: "replace a resource's secret",
  export: "write resources to stdout as a file",
  deliveries: "show a resource's delivery log",
  redeliver: "send a delivery again",
};

const VERB_ALIASES: Readonly<Record<VerbName, string[]>> = {
  create: [],
  get: [],
  list: ["ls"],
  update: [],
  delete: [],
  scale: [],
  undelete: [],
  disable: [],
  enable: [],
  rotate: [],
  export: [],
  deliveries: [],
  redeliver: [],
};

const examplesHelp = (lines: readonly string[]): string => `\nExamples:\n${lines.map((line) => `  ${line}`).join("\n")}\n`;

/** `firectl user create …` → `firectl create user …`, for the help of the verb-noun tree. */
const verbFirst = (line: string, verb: Verb): string => line.replace(`firectl ${verb.noun} ${verb.verb}`, `firectl ${verb.verb} ${verb.noun}`);

function defineVerb(command: Command, verb: Verb, examples: string[]): void {
  command.description(verb.summary);
  verb.define(command);
  if (examples.length > 0) command.addHelpText("after", examplesHelp(examples));
}

/** Adds both trees for `verbs` to `program`. */
export function defineResources(program: Command, nouns: readonly Noun[], verbs: readonly Verb[]): void {
  for (const noun of nouns) {
    const own = verbs.filter((v) => v.noun === noun.name);
    const nounCommand = program.command(noun.name).aliases(noun.aliases).description(noun.description);
    nounCommand.addHelpText("after", examplesHelp(own.flatMap((v) => v.examples.slice(0, 1))));
    for (const verb of own) defineVerb(nounCommand.command(verb.verb).aliases(VERB_ALIASES[verb.verb]), verb, verb.examples);
  }
  for (const name of Object.keys(VERB_DESCRIPTIONS) as VerbName[]) {
    const own = verbs.filter((v) => v.verb === name);
    const verbCommand = program.command(name).aliases(VERB_ALIASES[name]).description(`${VERB_DESCRIPTIONS[name]} (verb-noun order: firectl ${name} NOUN)`);
    verbCommand.addHelpText("after", examplesHelp(own.flatMap((v) => v.examples.slice(0, 1).map((line) => verbFirst(line, v)))));
    for (const verb of own) {
      const noun = nouns.find((n) => n.name === verb.noun);
      defineVerb(
        verbCommand.command(verb.noun).aliases(noun?.aliases ?? []),
        verb,
        verb.examples.map((line) => verbFirst(line, verb)),
      );
    }
  }
}
