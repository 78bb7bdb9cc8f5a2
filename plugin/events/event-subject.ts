/**
 * What an event is about - its subject - so events about one user (or role, or webhook...)
 * can be numbered and delivered in order (see per-subject ordering in the README).
 *
 * The subject is `<kind>:<id>`: the host's `context.subject` when given, else read from the
 * shaped data: its `user` when it has one (ROLE_ASSIGNED is about the user whose roles
 * changed), else its `role`, else the first top-level object with an id (`scope:scp_profile`,
 * `tenant:acme`); operational events are about their webhook. An event with none of these - or
 * whose subject would not be a usable one (see {@link isUsableSubject}) - has no subject and no
 * sequence: it is delivered like any other, only not numbered nor held in order.
 */
const PREFERRED_KINDS = ['user', 'role', 'webhook'];

export function subjectOf(data: Record<string, unknown>, explicit: string | null): string | null {
  if (explicit !== null) return isUsableSubject(explicit) ? explicit : null;
  const subject = derivedSubject(data);
  return subject !== null && isUsableSubject(subject) ? subject : null;
}

/**
 * 1-200 characters, no control characters, well-formed UTF-16: what `context.subject` accepts.
 * A subject is a database key: a NUL or a huge id would fail the event's write (inside a host's
 * transaction, too), and lone surrogates would all collapse to one U+FFFD subject.
 */
export function isUsableSubject(subject: string): boolean {
  return subject.length >= 1 && subject.length <= 200 && !/[\u0000-\u001f\u007f]/.test(subject) && !LONE_SURROGATE.test(subject);
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function derivedSubject(data: Record<string, unknown>): string | null {
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
