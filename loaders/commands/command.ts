export interface Command {
  /** One line for the command list. */
  summary: string;
  /** Full usage text documenting every flag; shown by `--help`. */
  usage: string;
  /** Run with the arguments after the command name; resolve to the exit code. */
  run(argv: string[]): Promise<number | void>;
}
