import type { AgendaBackend, NotificationChannel } from 'agenda';

/**
 * An Agenda backend with a notification channel the store built itself (the backends' own
 * channels either give up or are absent; see each store's notifications file), and optionally
 * its own way to connect. Everything else is the backend's.
 */
export function withNotificationChannel(
  backend: AgendaBackend, channel: NotificationChannel, connect: () => Promise<void> = () => backend.connect(),
): AgendaBackend {
  return {
    name: backend.name,
    get repository() { return backend.repository; },
    get logger() { return backend.logger; },
    get ownsConnection() { return backend.ownsConnection; },
    notificationChannel: channel,
    connect,
    disconnect: () => backend.disconnect(),
  };
}
