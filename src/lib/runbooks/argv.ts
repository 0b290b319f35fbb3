/** --param values of secret parameters never reach the audit event: masked in the argv the base command records. */
export function maskSecretParams(argv: readonly string[], secretNames: ReadonlySet<string>): string[] {
  if (secretNames.size === 0) return [...argv]
  const masked = (pair: string) => {
    const at = pair.indexOf('=')
    return at > 0 && secretNames.has(pair.slice(0, at).toLowerCase()) ? `${pair.slice(0, at)}=***` : pair
  }
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if ((arg === '--param' || arg === '-p') && i + 1 < argv.length) {
      out.push(arg, masked(argv[++i]))
    } else if (arg.startsWith('--param=')) {
      out.push(`--param=${masked(arg.slice('--param='.length))}`)
    } else if (/^-p[^=]/.test(arg)) {
      out.push(`-p${masked(arg.slice(2))}`)
    } else {
      out.push(arg)
    }
  }
  return out
}
