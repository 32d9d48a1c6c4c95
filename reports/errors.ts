// A problem with the report's input (a missing folder, a malformed file): the CLI prints the
// message, naming the file, and exits 2 without a stack trace. Anything else is a bug.
export class ReportInputError extends Error {
  constructor(readonly file: string, readonly problem: string) {
    super(`${file}: ${problem}`);
  }
}
