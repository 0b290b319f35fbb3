/**
 * Just enough POSIX shell to find the `cimops …` commands in a step and read their words: quotes,
 * escapes, line continuations, comments, operators, subshells and here-documents. Words that depend
 * on the environment (`$X`, `$(…)`, globs) are marked dynamic: lint cannot know their value.
 */

export interface Word {
  /** The word with quotes and escapes removed. */
  text: string
  /** Contains an expansion ($VAR, $(…), `…`) or an unquoted glob: its value is only known at run time. */
  dynamic: boolean
}

export interface SimpleCommand {
  words: Word[]
  /** 1-based line within the script where the command starts. */
  line: number
}

const OPERATORS = ['&&', '||', ';;', '|&', '|', '&', ';', '(', ')']
/** Words that may precede a command without being it. */
const PREFIX_KEYWORDS = new Set(['if', 'then', 'else', 'elif', 'do', 'while', 'until', '!', 'time', 'exec', 'command', 'nohup', '{', 'env'])
const SKIP_KEYWORDS = new Set(['fi', 'done', '}', 'esac', 'for', 'case', 'function', 'in'])

/** Every simple command of the script, with its leading keywords and VAR=value assignments removed. */
export function simpleCommands(script: string): SimpleCommand[] {
  const commands: SimpleCommand[] = []
  let words: Word[] = []
  let startLine = 1
  let line = 1
  let i = 0
  const heredocs: Array<{delimiter: string; stripTabs: boolean}> = []

  const finish = () => {
    const trimmed = stripPrefixes(words)
    if (trimmed.length > 0 && !SKIP_KEYWORDS.has(trimmed[0].text)) commands.push({words: trimmed, line: startLine})
    words = []
  }

  while (i < script.length) {
    const c = script[i]
    if (c === '\n') {
      finish()
      line++
      i++
      if (heredocs.length > 0) i = skipHeredocs(script, i, heredocs, () => line++)
      startLine = line
      continue
    }
    if (c === ' ' || c === '\t') {
      i++
      continue
    }
    if (c === '\\' && script[i + 1] === '\n') {
      i += 2
      line++
      continue
    }
    if (c === '#' ) {
      while (i < script.length && script[i] !== '\n') i++
      continue
    }
    if (c === '$' && script[i + 1] === '(' && script[i + 2] !== '(') {
      // A command substitution standing as a word of its own: `$(cimops …)` holds a command.
      finish()
      i += 2
      startLine = line
      continue
    }
    if (c === '`') {
      finish()
      i++
      startLine = line
      continue
    }
    const operator = OPERATORS.find((op) => script.startsWith(op, i))
    if (operator) {
      finish()
      i += operator.length
      startLine = line
      continue
    }
    if (c === '<' && script[i + 1] === '<' && script[i + 2] !== '<') {
      const match = /^<<(-?)\s*(['"]?)([A-Za-z_][\w-]*)\2/.exec(script.slice(i))
      if (match) {
        heredocs.push({delimiter: match[3], stripTabs: match[1] === '-'})
        i += match[0].length
        continue
      }
    }
    const read = readWord(script, i)
    if (words.length === 0) startLine = line
    // Commands inside $(…) within a word (X=$(cimops …)) are commands too.
    for (const inner of read.inner) commands.push(...simpleCommands(inner).map((command) => ({...command, line: line + command.line - 1})))
    line += countNewlines(script.slice(i, read.end))
    i = read.end
    if (read.word.text === '' && !read.word.dynamic && !read.quoted) continue
    words.push(read.word)
  }
  finish()
  return commands
}

function stripPrefixes(words: Word[]): Word[] {
  let start = 0
  while (start < words.length) {
    const word = words[start]
    if (!word.dynamic && PREFIX_KEYWORDS.has(word.text)) start++
    else if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(word.text)) start++
    else break
  }
  return words.slice(start)
}

function skipHeredocs(script: string, from: number, heredocs: Array<{delimiter: string; stripTabs: boolean}>, newline: () => void): number {
  let i = from
  while (heredocs.length > 0 && i < script.length) {
    const end = script.indexOf('\n', i)
    const text = script.slice(i, end === -1 ? script.length : end)
    i = end === -1 ? script.length : end + 1
    newline()
    const candidate = heredocs[0].stripTabs ? text.replace(/^\t+/, '') : text
    if (candidate === heredocs[0].delimiter) heredocs.shift()
  }
  return i
}

function countNewlines(text: string): number {
  let n = 0
  for (const c of text) if (c === '\n') n++
  return n
}

const WORD_END = new Set([' ', '\t', '\n', ';', '&', '|', '(', ')', '<', '>', '`'])

function readWord(script: string, start: number): {word: Word; end: number; quoted: boolean; inner: string[]} {
  let text = ''
  let dynamic = false
  let quoted = false
  const inner: string[] = []
  let i = start
  while (i < script.length) {
    const c = script[i]
    if (WORD_END.has(c)) {
      if ((c === '<' || c === '>') && text === '') {
        // A redirection: skip the operator and its target word.
        i++
        while (script[i] === '>' || script[i] === '&' || script[i] === '<') i++
        while (script[i] === ' ' || script[i] === '\t') i++
        const target = readWord(script, i)
        return {word: {text: '', dynamic: false}, end: target.end, quoted: false, inner: target.inner}
      }
      if (c === '>' || c === '<') {
        // `2>&1`, `>file` glued to a word: the word so far is a file descriptor number, not an argument.
        if (/^\d+$/.test(text)) {
          i++
          while (script[i] === '>' || script[i] === '&' || script[i] === '<') i++
          const target = readWord(script, i)
          return {word: {text: '', dynamic: false}, end: target.end, quoted: false, inner: target.inner}
        }
      }
      break
    }
    if (c === '\\') {
      if (script[i + 1] === '\n') {
        i += 2
        continue
      }
      text += script[i + 1] ?? ''
      i += 2
      continue
    }
    if (c === "'") {
      quoted = true
      const end = script.indexOf("'", i + 1)
      text += script.slice(i + 1, end === -1 ? script.length : end)
      i = end === -1 ? script.length : end + 1
      continue
    }
    if (c === '"') {
      quoted = true
      i++
      while (i < script.length && script[i] !== '"') {
        if (script[i] === '\\' && i + 1 < script.length && '"\\$`\n'.includes(script[i + 1])) {
          if (script[i + 1] !== '\n') text += script[i + 1]
          i += 2
          continue
        }
        if (script[i] === '$' || script[i] === '`') dynamic = true
        text += script[i]
        i++
      }
      i++
      continue
    }
    if (c === '$') {
      dynamic = true
      if (script[i + 1] === '(') {
        // $(…) inside a word: its text is a script of its own; $((…)) is arithmetic.
        const arithmetic = script[i + 2] === '('
        const open = i + 2
        let depth = 0
        for (; i < script.length; i++) {
          if (script[i] === '(') depth++
          else if (script[i] === ')' && --depth === 0) break
        }
        if (!arithmetic) inner.push(script.slice(open, i))
        i++
        text += '$(…)'
        continue
      }
      if (script[i + 1] === '{') {
        const end = script.indexOf('}', i)
        text += script.slice(i, end === -1 ? script.length : end + 1)
        i = end === -1 ? script.length : end + 1
        continue
      }
    }
    if ((c === '*' || c === '?' || (c === '[' && script.indexOf(']', i) > i && !WORD_END.has(script[i + 1] ?? ' '))) && !quoted) dynamic = true
    text += c
    i++
  }
  return {word: {text, dynamic}, end: i, quoted, inner}
}
