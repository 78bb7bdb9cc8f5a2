/**
 * The guarded agents of one plugin instance, per allow-list: a connection is judged - in the
 * socket's lookup and on connect - with the allow-lists of the tenant it is made for.
 *
 * Every tenant without an `allowByTenant` entry shares one pair of agents, built for the
 * global list alone (the strict default). A tenant with an entry gets agents of its own,
 * built for the global list plus its entry on its first request and kept: agents hold
 * keep-alive sockets, so one tenant's open connection to an allow-listed private receiver
 * is never handed to another tenant's request for the same host and port. Their number is
 * bounded by the operator's configuration, not by tenants' actions.
 */
import type https from 'node:https';
import { createGuardedAgents, type GuardedAgents } from './connect-time-lookup.js';
import { hasOwnAllowList, policyForTenant, type EgressPolicy } from './egress-allow-list.js';
import type { HostResolver } from './host-resolver.js';

/** Agents per tenant; see {@link createTenantAgents}. */
export interface TenantAgents {
  /**
   * The agents whose connections are judged with `tenantId`'s allow-lists (the global list
   * plus the tenant's own). `undefined` gets the shared agents of the global list alone.
   */
  forTenant(tenantId: string | undefined): GuardedAgents;
  /** Closes the sockets of every agent built so far. */
  destroy(): void;
}

/**
 * @param agentOptions Options of every agent (`keepAlive` defaults to `true`); each agent
 *   applies its own `maxSockets`.
 * @param resolver One resolver for all agents: a DNS answer does not depend on the tenant.
 */
export function createTenantAgents(
  policy: EgressPolicy,
  agentOptions: Omit<https.AgentOptions, 'lookup'>,
  resolver: HostResolver,
): TenantAgents {
  const shared = createGuardedAgents(policyForTenant(policy, undefined), agentOptions, resolver);
  const own = new Map<string, GuardedAgents>();
  return {
    forTenant(tenantId) {
      if (tenantId === undefined || !hasOwnAllowList(policy, tenantId)) return shared;
      let agents = own.get(tenantId);
      if (!agents) {
        agents = createGuardedAgents(policyForTenant(policy, tenantId), agentOptions, resolver);
        own.set(tenantId, agents);
      }
      return agents;
    },
    destroy() {
      for (const agents of [shared, ...own.values()]) {
        agents.http.destroy();
        agents.https.destroy();
      }
    },
  };
}
