import type { HookContext, LifecycleHooks } from '../../plugin/index.js';
import type { HostLogger } from '../host-logger.js';
import type { LoadedPlugin } from './plugin-loader.js';

type HookMethod = Exclude<keyof LifecycleHooks, 'emit'>;
type HookArgs<M extends HookMethod> = Parameters<LifecycleHooks[M]>[0];

/** A loaded plugin whose instance carries lifecycle hooks. */
export type HookedPlugin = LoadedPlugin<{ hooks: Partial<LifecycleHooks> }>;

/**
 * The host's side of the lifecycle hooks: each flow reports what happened once, and this
 * calls the method on every enabled plugin whose manifest lists it (`hooks.lifecycle`).
 *
 * A flow awaits the call, so when it answers the client the event is durable. Outside a
 * transaction a plugin that cannot record an event never fails the flow: the user was already
 * created, the password already changed; the error is logged. Inside one (`context.transaction`,
 * the outbox) the error fails the flow instead, so the change rolls back with its event: a
 * committed change whose event was lost is what the outbox exists to prevent.
 */
export class HostEvents {
  private readonly skipped = new Set<HookMethod>();

  constructor(private readonly plugins: HookedPlugin[], private readonly logger: HostLogger) {}

  /**
   * Stops calling `method` because something else already records it, e.g. the mongoose
   * binding records USER_CREATED/MODIFIED/DELETED from the user model's own middleware.
   */
  recordedElsewhere(...methods: HookMethod[]): void {
    for (const method of methods) this.skipped.add(method);
  }

  async call<M extends HookMethod>(method: M, args: HookArgs<M>, context: HookContext): Promise<void> {
    if (this.skipped.has(method)) return;
    await this.dispatch(method, context, (hooks) => (hooks[method] as (a: HookArgs<M>, c: HookContext) => Promise<unknown>)(args, context));
  }

  /** A catalogue event without a typed hook (USER_PASSWORD_CHANGED, MFA_INITIATED, ...). */
  async emit(type: string, data: Record<string, unknown>, context: HookContext): Promise<void> {
    await this.dispatch('emit', context, (hooks) => hooks.emit!(type, data, context), type);
  }

  private async dispatch(method: keyof LifecycleHooks, context: HookContext, call: (hooks: Partial<LifecycleHooks>) => Promise<unknown>,
    type?: string): Promise<void> {
    await Promise.all(this.plugins
      .filter((p) => p.manifest.hooks.lifecycle.some((h) => h.method === method && (type === undefined || h.emits === '*' || h.emits === type)))
      .map(async (p) => {
        try {
          await call(p.instance.hooks);
        } catch (error) {
          this.logger.error(`plugin ${p.manifest.id} could not record ${type ?? method}`, { error: (error as Error).message });
          if (context.transaction) throw error;
        }
      }));
  }
}
