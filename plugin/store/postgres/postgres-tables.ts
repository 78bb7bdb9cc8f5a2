import type pg from 'pg';

/** What every part of the PostgreSQL store shares: the pool and the prefixed table names. */
export class PostgresTables {
  constructor(readonly pool: pg.Pool, readonly prefix: string) {
    if (!/^[a-z_][a-z0-9_]{0,30}$/.test(prefix)) throw new Error(`Invalid table prefix "${prefix}"`);
  }

  /** The quoted name of one of the plugin's tables. */
  table(name: string): string {
    return `"${this.prefix}${name}"`;
  }

  /** NOTIFY channel announcing newly recorded deliveries (see listenForNewWork). */
  get workChannel(): string {
    return `${this.prefix}new_work`;
  }
}
