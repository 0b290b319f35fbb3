/** A copy without the keys whose value is undefined (keeps YAML and JSON output free of empty keys). */
export function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
}
