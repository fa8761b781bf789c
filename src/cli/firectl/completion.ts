import type { Command, Option } from "commander";
import { ROLES } from "../../domain/roles.ts";

/**
 * Shell completion scripts, generated from the command tree itself so they never drift from it.
 * zsh uses the same function through bashcompinit.
 */
const names = (command: Command): string[] => [command.name(), ...command.aliases()];

const flagsOf = (options: readonly Option[]): string[] => options.flatMap((o) => [o.long, o.short].filter((f): f is string => f !== undefined));

/** Flags offered as completions: the long form only, to keep the list short. */
const offered = (options: readonly Option[]): string[] =>
  options
    .filter((o) => o.long !== "--version")
    .map((o) => o.long ?? o.short ?? "")
    .filter((f) => f !== "");

/** Every command path (by name and by alias) → the words offered after it (names only, no aliases). */
function completionTable(program: Command): Map<string, string[]> {
  const globals = offered(program.options);
  const table = new Map<string, string[]>();
  const visit = (command: Command, path: string): void => {
    const subcommands = command.commands.map((c) => c.name()).filter((name) => name !== "help");
    const args = command.name() === "completion" ? ["bash", "zsh"] : [];
    table.set(path, [...subcommands, ...args, ...offered(command.options), ...(command === program ? [] : globals), "--help"]);
    for (const sub of command.commands) for (const name of names(sub)) visit(sub, path ? `${path} ${name}` : name);
  };
  visit(program, "");
  return table;
}

/** Flags that take a value, so the word after them is not a command name. */
function valueFlags(program: Command): string[] {
  const found = new Set<string>();
  const visit = (command: Command): void => {
    for (const o of command.options) if (o.required || o.optional) for (const f of flagsOf([o])) found.add(f);
    command.commands.forEach(visit);
  };
  visit(program);
  return [...found].sort();
}

const quote = (words: string[]): string => `"${words.join(" ")}"`;

export function bashCompletion(program: Command): string {
  const valued = valueFlags(program).join("|");
  const cases = [...completionTable(program)].map(([path, words]) => `    ${JSON.stringify(path)}) words=${quote(words)} ;;`).join("\n");
  return `# firectl completion for bash; load it with: source <(firectl completion bash)
_firectl() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local path="" word words i skip=0
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    if ((skip)); then skip=0; continue; fi
    case "$word" in
      ${valued}) skip=1 ;;
      -*) ;;
      *) path="\${path:+$path }$word" ;;
    esac
  done
  case "$prev" in
    --role) COMPREPLY=($(compgen -W ${quote([...ROLES])} -- "$cur")); return ;;
    -o|--output) COMPREPLY=($(compgen -W "text json flag" -- "$cur")); return ;;
    ${valued}) COMPREPLY=(); return ;;
  esac
  case "$path" in
${cases}
    *) words="" ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _firectl firectl
`;
}

export function zshCompletion(program: Command): string {
  return `# firectl completion for zsh; load it with: source <(firectl completion zsh)
(( $+functions[compdef] )) || { autoload -U +X compinit && compinit }
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(program).split("\n").slice(1).join("\n")}`;
}
