/**
 * A reader that stops early (`firectl user list | head`) closes the pipe: that ends the output, it
 * is not a failure to report, and never a stack trace. Installed once per process by `run`,
 * whichever way firectl was started.
 */
let installed = false;

export function endQuietlyOnClosedPipe(): void {
  if (installed) return;
  installed = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
      throw error;
    });
  }
}
