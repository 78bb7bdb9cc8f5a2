import type { Logger } from '../options.js';
import type { LifecycleHooks } from './lifecycle-hooks.js';
import type { HookContext } from '../events/event-context.js';

/** The parts of a Passport `Authenticator` the instrumentation touches. */
export interface PassportLike {
  use(...args: any[]): unknown;
  _strategies?: Record<string, StrategyLike>;
}

interface StrategyLike {
  name?: string;
  authenticate(this: StrategyInstance, req: any, options?: unknown): unknown;
  _usernameField?: string;
}

/** Passport calls `authenticate` on a per-request object that carries these outcome functions. */
interface StrategyInstance extends StrategyLike {
  success(user: unknown, info?: unknown): void;
  fail(challenge?: unknown, status?: number): void;
}

export interface PassportInstrumentationOptions {
  /** Tenant of a login request. Default: the plugin's defaultTenantId. */
  tenantOf?: (req: any) => string | undefined;
  /** Strategies not to instrument (e.g. the bearer strategy of an API). Default none. */
  ignoreStrategies?: string[];
  logger?: Logger;
}

const INSTRUMENTED = Symbol.for('identity-webhooks.passport-instrumented');

/**
 * Makes every `passport.authenticate()` outcome emit USER_LOGIN or USER_LOGIN_FAILURE.
 *
 * Passport runs each attempt on `Object.create(strategy)` after giving that object its
 * `success` and `fail` functions, so wrapping the registered strategy's `authenticate` lets
 * us wrap those two per request. The login itself is untouched: the original function runs
 * first and synchronously, the event is recorded in the background, and a recording
 * failure is logged, never thrown into the login.
 */
export function instrumentPassport(passport: PassportLike, hooks: LifecycleHooks, options: PassportInstrumentationOptions = {}): void {
  const ignored = new Set(options.ignoreStrategies ?? []);
  const report = (what: string) => (error: unknown) =>
    options.logger?.error(`Could not record ${what}; the login itself was not affected`, { error: String(error) });

  const instrument = (name: string, strategy: StrategyLike | undefined) => {
    if (!strategy || ignored.has(name) || (strategy as any)[INSTRUMENTED]) return;
    const original = strategy.authenticate;
    Object.defineProperty(strategy, INSTRUMENTED, { value: true });
    strategy.authenticate = function instrumentedAuthenticate(this: StrategyInstance, req: any, authOptions?: unknown) {
      const success = this.success;
      const fail = this.fail;
      const context = (): HookContext => ({ req, tenantId: options.tenantOf?.(req) });
      this.success = function (user: unknown, info?: unknown) {
        success.call(this, user, info);
        try {
          hooks.userLogin({ user: user as Record<string, unknown>, strategy: name }, context()).catch(report('USER_LOGIN'));
        } catch (error) {
          report('USER_LOGIN')(error);
        }
      };
      this.fail = function (challenge?: unknown, status?: number) {
        fail.call(this, challenge, status);
        try {
          const field = strategy._usernameField ?? 'username';
          const username = typeof req?.body?.[field] === 'string' ? req.body[field].slice(0, 200) : undefined;
          const reason = typeof challenge === 'string' ? challenge : (challenge as { message?: unknown } | undefined)?.message;
          hooks.userLoginFailure({
            username, strategy: name, reason: typeof reason === 'string' ? reason.slice(0, 500) : 'authentication failed',
          }, context()).catch(report('USER_LOGIN_FAILURE'));
        } catch (error) {
          report('USER_LOGIN_FAILURE')(error);
        }
      };
      return original.call(this, req, authOptions);
    };
  };

  // Strategies registered before instrumentation (Passport keeps them in `_strategies`)...
  for (const [name, strategy] of Object.entries(passport._strategies ?? {})) instrument(name, strategy);
  // ...and every one registered after it.
  const use = passport.use.bind(passport);
  passport.use = (nameOrStrategy: string | StrategyLike, maybeStrategy?: StrategyLike) => {
    const strategy = typeof nameOrStrategy === 'string' ? maybeStrategy : nameOrStrategy;
    const name = typeof nameOrStrategy === 'string' ? nameOrStrategy : nameOrStrategy.name;
    const result = use(nameOrStrategy, maybeStrategy);
    if (name) instrument(name, strategy);
    return result;
  };
}
