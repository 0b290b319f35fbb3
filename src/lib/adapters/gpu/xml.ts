/**
 * A small XML reader for `nvidia-smi -q -x`: elements, attributes and text, nothing else. The declaration,
 * comments, the DOCTYPE (with or without the internal subset `--dtd` embeds) and processing instructions are
 * skipped; CDATA is text. Mixed content keeps only the text, trimmed, which is all nvidia-smi writes.
 */
import {ParseError} from '../../core/errors.js'

export interface XmlElement {
  name: string
  attributes: Record<string, string>
  children: XmlElement[]
  /** The element's own text, entities decoded, trimmed (driver 580 pads values with spaces). */
  text: string
}

const TAG = /<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/y
const ATTRIBUTE = /([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g

export function parseXml(xml: string, system = 'nvidia-smi'): XmlElement {
  const fail = (why: string): never => {
    throw new ParseError('cannot read the XML output', why, {system})
  }
  const stack: XmlElement[] = []
  let root: XmlElement | undefined
  let position = 0
  const appendText = (text: string) => {
    const top = stack.at(-1)
    if (top) top.text += text
    else if (text.trim() !== '') fail(`text "${text.trim().slice(0, 40)}" outside the root element`)
  }

  while (position < xml.length) {
    const open = xml.indexOf('<', position)
    if (open === -1) {
      appendText(decodeEntities(xml.slice(position)))
      break
    }
    if (open > position) appendText(decodeEntities(xml.slice(position, open)))
    position = open
    if (xml.startsWith('<!--', position)) {
      position = endOf(xml, '-->', position) ?? fail('a comment is not closed')
      continue
    }
    if (xml.startsWith('<![CDATA[', position)) {
      const end = xml.indexOf(']]>', position)
      if (end === -1) fail('a CDATA section is not closed')
      appendText(xml.slice(position + 9, end))
      position = end + 3
      continue
    }
    if (xml.startsWith('<?', position)) {
      position = endOf(xml, '?>', position) ?? fail('a processing instruction is not closed')
      continue
    }
    if (xml.startsWith('<!', position)) {
      position = skipDeclaration(xml, position) ?? fail('the DOCTYPE is not closed')
      continue
    }
    TAG.lastIndex = position
    const tag = TAG.exec(xml)
    if (!tag) return fail(`malformed tag at offset ${position}: "${xml.slice(position, position + 40)}"`)
    position = TAG.lastIndex
    const [, closing, name, attributeText, selfClosing] = tag
    if (closing) {
      const top = stack.pop()
      if (!top || top.name !== name) fail(`</${name}> does not close ${top ? `<${top.name}>` : 'any element'}`)
      top!.text = top!.text.trim()
      continue
    }
    const element: XmlElement = {name, attributes: parseAttributes(attributeText), children: [], text: ''}
    const parent = stack.at(-1)
    if (parent) parent.children.push(element)
    else if (root) fail(`a second root element <${name}>`)
    else root = element
    if (!selfClosing) stack.push(element)
  }
  if (stack.length > 0) fail(`<${stack.at(-1)!.name}> is not closed (the output is cut short)`)
  return root ?? fail('there is no element')
}

function endOf(xml: string, terminator: string, from: number): number | undefined {
  const end = xml.indexOf(terminator, from)
  return end === -1 ? undefined : end + terminator.length
}

/** `<!DOCTYPE name SYSTEM "x.dtd">` or `<!DOCTYPE name [ ...internal subset... ]>`. */
function skipDeclaration(xml: string, from: number): number | undefined {
  let depth = 0
  for (let i = from + 2; i < xml.length; i++) {
    const c = xml[i]
    if (c === '[') depth++
    else if (c === ']') depth--
    else if (c === '>' && depth <= 0) return i + 1
  }
  return undefined
}

function parseAttributes(text: string): Record<string, string> {
  const attributes: Record<string, string> = {}
  for (const match of text.matchAll(ATTRIBUTE)) attributes[match[1]] = decodeEntities(match[2] ?? match[3] ?? '')
  return attributes
}

const ENTITIES: Record<string, string> = {lt: '<', gt: '>', amp: '&', quot: '"', apos: "'"}

/** XML character and entity references: `&lt;`, `&#38;`, `&#x26;`. Shared with the plist reader. */
export function decodeEntities(text: string): string {
  return text.replaceAll(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (whole, entity: string) => {
    if (entity.startsWith('#x') || entity.startsWith('#X')) return String.fromCodePoint(Number.parseInt(entity.slice(2), 16))
    if (entity.startsWith('#')) return String.fromCodePoint(Number.parseInt(entity.slice(1), 10))
    return ENTITIES[entity] ?? whole
  })
}

/** The first direct child with this name. */
export function child(element: XmlElement | undefined, name: string): XmlElement | undefined {
  return element?.children.find((c) => c.name === name)
}

export function childrenNamed(element: XmlElement | undefined, name: string): XmlElement[] {
  return element?.children.filter((c) => c.name === name) ?? []
}

/** Follows direct children: `at(gpu, 'temperature', 'gpu_temp')`. Never searches deeper (MIG devices repeat names). */
export function at(element: XmlElement | undefined, ...names: string[]): XmlElement | undefined {
  let current = element
  for (const name of names) current = child(current, name)
  return current
}
