import type { HostLogger } from '../host-logger.js';

/** One message to a user. `action` carries the one-time token the text links to. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  action?: { kind: 'verify_email' | 'reset_password'; token: string };
}

/** How the host sends mail; the demo has no mail server, so it logs instead. */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

/** Prints each message, token included: the demo's stand-in for a mailbox. */
export function logMailer(logger: HostLogger): Mailer {
  return {
    async send(message) {
      logger.info(`mail to ${message.to}: ${message.subject}\n${message.text}`);
    },
  };
}

/** Keeps messages in memory, for tests that follow the link in a mail. */
export function memoryMailer(): Mailer & { messages: MailMessage[]; last(to: string, kind?: NonNullable<MailMessage['action']>['kind']): MailMessage | undefined } {
  const messages: MailMessage[] = [];
  return {
    messages,
    async send(message) {
      messages.push(message);
    },
    last(to, kind) {
      return [...messages].reverse().find((m) => m.to === to && (kind === undefined || m.action?.kind === kind));
    },
  };
}
