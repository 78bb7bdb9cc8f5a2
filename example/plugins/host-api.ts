/**
 * The plugin API this host implements. A plugin's manifest states the versions it supports
 * (`hostApi`, a semver range) and the loader refuses a plugin whose range excludes this one.
 *
 * Host API 1.x means the host:
 * - imports `entry.server` and calls `entry.factory(options)`, validating `options` against
 *   the manifest's `optionsSchema` first and filling the `x-runtimeOnly` pointers it knows
 *   (its database handle, its logger) with live objects;
 * - calls `start()` before serving and `stop()` on shutdown;
 * - mounts `entry.adminRouter(plugin, { authenticate, authorize, tenantOf })` at
 *   `mount.adminApi`, with its own admin authentication as `authenticate`;
 * - shows `adminTab` in its console at `adminTab.path`, rendering the `entry.adminUi` element
 *   with `api-base` set to `mount.adminApi`, and loading the element's module from the admin
 *   router, which serves it at `ui/<file name of entry.adminUi.module>`;
 * - calls the `hooks.lifecycle` methods from its flows, and passes its Passport instance to
 *   the `hooks.passport` method with `{ ignoreStrategies, tenantOf }`.
 */
export const HOST_API_VERSION = '1.0.0';
