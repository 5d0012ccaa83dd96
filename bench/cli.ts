// The benchmarks' command lines: options parsed or the usage shown (exit 2), and the checks of
// their numbers.

/** `parse` over this process's arguments; on any error the usage, on stderr, and exit 2 */
export function optionsOrExit<T>(parse: (args: string[]) => T, usage: string): T {
  try {
    return parse(process.argv.slice(2))
  } catch {
    console.error(usage)
    process.exit(2)
  }
}

/** the number in `text`, above 0 and at most `max`; anything else throws the usage */
export function positiveOption(text: string, max: number, usage: string): number {
  const n = Number(text)
  if (!Number.isFinite(n) || n <= 0 || n > max) throw new Error(usage)
  return n
}
