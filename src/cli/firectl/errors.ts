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
  /** The google.rpc status name (`NOT_FOUND`, …) the API answered with, when the API answered. */
  readonly status: string | undefined;

  constructor(message: string, exitCode: number, status?: string) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
    this.status = status;
  }
}

export const usageError = (message: string): CliError => new CliError(message, EXIT_USAGE);
/** A request that failed: the server could not be reached, or answered `status` (a google.rpc name). */
export const apiFailure = (message: string, status?: string): CliError => new CliError(message, EXIT_API, status);
