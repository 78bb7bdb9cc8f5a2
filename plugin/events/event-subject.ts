/**
 * What an event is about - its subject - so events about one user (or role, or webhook...)
 * can be numbered and delivered in order (see per-subject ordering in the README).
 *
 * The subject is `<kind>:<id>`: the host's `context.subject` when given, else read from the
 * shaped data: its `user` when it has one (ROLE_ASSIGNED is about the user whose roles
 * changed), else its `role`, else the first top-level object with an id (`scope:scp_profile`,
 * `webhook:wh_...`). An event with none of these has no subject and no sequence.
 */
const PREFERRED_KINDS = ['user', 'role'];

export function subjectOf(data: Record<string, unknown>, explicit: string | null): string | null {
  if (explicit !== null) return explicit;
  for (const kind of PREFERRED_KINDS) {
    const id = idOf(data[kind]);
    if (id !== null) return `${kind}:${id}`;
  }
  for (const [kind, value] of Object.entries(data)) {
    const id = idOf(value);
    if (id !== null) return `${kind}:${id}`;
  }
  return null;
}

function idOf(value: unknown): string | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const id = (value as { id?: unknown }).id;
  if (typeof id === 'string' && id !== '') return id;
  if (typeof id === 'number' && Number.isFinite(id)) return String(id);
  return null;
}
