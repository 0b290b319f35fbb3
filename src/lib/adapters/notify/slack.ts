/**
 * Slack incoming webhook (reference/prometheus-alertmanager.md §5.2): POST `{"text"}`, 200 `ok` on success.
 * The webhook URL is the credential (its path is the key): read from a file, registered for redaction,
 * and shown only as `<origin>/***`.
 */
import {registerSecret} from '../../core/redact.js'
import {ConfigError} from '../../core/errors.js'
import {readSecretFile} from './secret-file.js'
import {postJson, unexpectedAnswer} from './post.js'

export interface SlackMessage {
  /** mrkdwn text; escape user text with slackEscape. */
  text: string
}

export interface SlackClient {
  readonly address: string
  /** Resolves once Slack answered `ok`; `timeoutMs` caps the client's timeout for this call. */
  post(message: SlackMessage, timeoutMs?: number): Promise<void>
}

export interface SlackSettings {
  webhookUrlFile: string
  /** scheme://host[:port][/prefix] to send the webhook's path to instead of its own origin (a proxy, a test receiver). */
  url?: string
}

export async function createSlackClient(settings: SlackSettings, timeoutMs: number): Promise<SlackClient> {
  const webhookUrl = await readSecretFile(settings.webhookUrlFile, 'Slack webhook URL', 'slack.webhookUrlFile')
  const url = slackTarget(webhookUrl, settings.url, settings.webhookUrlFile)
  const address = `${new URL(url).origin}/***`
  return {
    address,
    async post(message, cap = timeoutMs) {
      const target = {system: 'slack', url, address}
      const answer = await postJson(target, {text: message.text}, Math.min(timeoutMs, cap))
      if (answer.body.trim() !== 'ok') throw unexpectedAnswer(target, answer, 'the body `ok`')
    },
  }
}

/** Where to POST: the webhook URL itself, or its path (and query) appended to the override. Registers the secret parts. */
export function slackTarget(webhookUrl: string, override: string | undefined, file = 'the webhook URL file'): string {
  let webhook: URL
  try {
    webhook = new URL(webhookUrl)
  } catch {
    throw new ConfigError(`invalid Slack webhook URL in ${file}`, 'expected https://hooks.slack.com/services/...', {hint: 'check notifiers.slack.webhookUrlFile in the context'})
  }
  if (webhook.protocol !== 'https:' && webhook.protocol !== 'http:') {
    throw new ConfigError(`invalid Slack webhook URL in ${file}`, `unsupported scheme ${webhook.protocol}`, {hint: 'check notifiers.slack.webhookUrlFile in the context'})
  }
  const secretPath = webhook.pathname + webhook.search
  registerSecret(webhookUrl)
  registerSecret(secretPath)
  const target = override ? `${override.replace(/\/+$/, '')}${secretPath}` : webhookUrl
  registerSecret(target)
  return target
}

/** Slack mrkdwn control characters (https://api.slack.com/reference/surfaces/formatting#escaping). */
export function slackEscape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')
}
