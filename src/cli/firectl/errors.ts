/**
 * firectl's exit codes and the one error type its commands throw. `main.ts` prints the message as
 * one line on stderr and exits with the code; nothing else prints errors or calls process.exit.
 */
export const EXIT_OK = 0;
/** The API refused the request, or the server could not be reached. */
export const EXIT_API = 1;
/** Bad usage: unknown flag, missing argument, invalid value, missing configuration. */
export const EXIT_USAGE = 2;

export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}

export const usageError = (message: string): CliError => new CliError(message, EXIT_USAGE);
export const apiFailure = (message: string): CliError => new CliError(message, EXIT_API);
