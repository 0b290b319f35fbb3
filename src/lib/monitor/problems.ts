/** The monitor's current problem: logged once when it starts, not at every retry while it lasts. */
export class ProblemLog {
  private line?: string

  constructor(private readonly log: (line: string) => void) {}

  /** The problem now, for /readyz. */
  get current(): string | undefined {
    return this.line
  }

  report(line: string): void {
    if (line !== this.line) this.log(line)
    this.line = line
  }

  /** A problem that starts with `prefix` is over: forgotten, with `line` logged if given. */
  resolve(prefix: string, line?: string): void {
    if (!this.line?.startsWith(prefix)) return
    if (line !== undefined) this.log(line)
    this.line = undefined
  }

  clear(): void {
    this.line = undefined
  }
}
