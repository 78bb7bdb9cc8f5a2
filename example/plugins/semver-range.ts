/**
 * The part of npm's semver range grammar a plugin manifest's `hostApi` may use: comparator
 * sets joined by `||`, each a space-separated list of `^`, `~`, `<`, `<=`, `>`, `>=`, `=`
 * or bare versions, where a bare or partial version may use `x`, `X` or `*`
 * (`^1.0.0`, `>=1.2.0 <3.0.0`, `1.x || ^2.1`). It follows node-semver's desugaring, so a
 * manifest means here what it means to npm, without a runtime dependency for ten rules.
 */

interface Version {
  major: number;
  minor: number;
  patch: number;
  prerelease: Array<string | number>;
}

type Operator = '<' | '<=' | '>' | '>=' | '=';

interface Comparator {
  operator: Operator;
  version: Version;
}

/** A range or version this module cannot read. */
export class InvalidRangeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRangeError';
  }
}

const VERSION = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?$/;
const PARTIAL = /^(\^|~|<=|>=|<|>|=)?v?(0|[1-9]\d*|[xX*])(?:\.(0|[1-9]\d*|[xX*]))?(?:\.(0|[1-9]\d*|[xX*]))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

/** Parses a full version (`1.2.3`, `1.2.3-beta.1`); throws {@link InvalidRangeError}. */
export function parseVersion(text: string): Version {
  const match = VERSION.exec(text.trim());
  if (!match) throw new InvalidRangeError(`"${text}" is not a semantic version (major.minor.patch)`);
  return {
    major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]),
    prerelease: match[4] ? match[4].split('.').map((id) => (/^\d+$/.test(id) ? Number(id) : id)) : [],
  };
}

function compareIdentifiers(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1; // numeric identifiers sort before alphanumeric ones
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function compare(a: Version, b: Version): number {
  const main = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (main !== 0) return main;
  if (a.prerelease.length === 0 || b.prerelease.length === 0) return b.prerelease.length - a.prerelease.length;
  for (let i = 0; i < Math.max(a.prerelease.length, b.prerelease.length); i += 1) {
    if (a.prerelease[i] === undefined) return -1;
    if (b.prerelease[i] === undefined) return 1;
    const order = compareIdentifiers(a.prerelease[i], b.prerelease[i]);
    if (order !== 0) return order;
  }
  return 0;
}

const version = (major: number, minor: number, patch: number, prerelease: Array<string | number> = []): Version =>
  ({ major, minor, patch, prerelease });
/** The lowest version of a release line: `2.0.0-0`, so `<2.0.0-0` also excludes 2.0.0's prereleases. */
const floor = (major: number, minor: number, patch: number): Version => version(major, minor, patch, [0]);

/** Turns one range token (`^1.2`, `>=1.0.0`, `1.x`) into plain comparators. */
function desugar(token: string): Comparator[] {
  const match = PARTIAL.exec(token);
  if (!match) throw new InvalidRangeError(`"${token}" is not a version comparator`);
  const operator = match[1] ?? '';
  const wild = (part: string | undefined) => part === undefined || /^[xX*]$/.test(part);
  const [M, m, p] = [match[2], match[3], match[4]];
  const prerelease = match[5] ? match[5].split('.').map((id) => (/^\d+$/.test(id) ? Number(id) : id)) : [];
  if (wild(M)) {
    return operator === '<' || operator === '>' ? [{ operator: '<', version: floor(0, 0, 0) }] : [];
  }
  const major = Number(M);
  const minor = wild(m) ? 0 : Number(m);
  const patch = wild(p) ? 0 : Number(p);
  const precision = wild(m) ? 1 : wild(p) ? 2 : 3;
  const exact = version(major, minor, patch, prerelease);
  const upperOf = (level: number) => (level === 1 ? floor(major + 1, 0, 0) : level === 2 ? floor(major, minor + 1, 0) : floor(major, minor, patch + 1));

  switch (operator) {
    case '^': {
      const level = major !== 0 || precision === 1 ? 1 : minor !== 0 || precision === 2 ? 2 : 3;
      return [{ operator: '>=', version: exact }, { operator: '<', version: upperOf(level) }];
    }
    case '~':
      return [{ operator: '>=', version: exact }, { operator: '<', version: upperOf(precision === 1 ? 1 : 2) }];
    case '>':
      return precision === 3 ? [{ operator: '>', version: exact }] : [{ operator: '>=', version: upperOf(precision) }];
    case '>=':
      return [{ operator: '>=', version: exact }];
    case '<':
      return [{ operator: '<', version: precision === 3 ? exact : floor(major, minor, patch) }];
    case '<=':
      return precision === 3 ? [{ operator: '<=', version: exact }] : [{ operator: '<', version: upperOf(precision) }];
    default: // '' or '='
      return precision === 3 ? [{ operator: '=', version: exact }] : [{ operator: '>=', version: exact }, { operator: '<', version: upperOf(precision) }];
  }
}

function test(comparator: Comparator, v: Version): boolean {
  const order = compare(v, comparator.version);
  switch (comparator.operator) {
    case '<': return order < 0;
    case '<=': return order <= 0;
    case '>': return order > 0;
    case '>=': return order >= 0;
    default: return order === 0;
  }
}

/** Parses a range into comparator sets (OR of ANDs); throws {@link InvalidRangeError}. */
export function parseRange(range: string): Comparator[][] {
  if (typeof range !== 'string' || range.trim() === '') throw new InvalidRangeError('a version range must be a non-empty string');
  return range.split('||').map((set) => {
    const tokens = set.trim().split(/\s+/).filter(Boolean);
    if (tokens.length === 0) throw new InvalidRangeError(`"${range}" has an empty alternative`);
    return tokens.flatMap(desugar);
  });
}

/**
 * Whether `versionText` satisfies `range`, as `semver.satisfies` answers it: a prerelease
 * only satisfies a set that names a prerelease of the same major.minor.patch.
 */
export function satisfies(versionText: string, range: string): boolean {
  const v = parseVersion(versionText);
  return parseRange(range).some((set) => {
    if (!set.every((c) => test(c, v))) return false;
    if (v.prerelease.length === 0) return true;
    return set.some((c) => c.version.prerelease.length > 0
      && c.version.major === v.major && c.version.minor === v.minor && c.version.patch === v.patch);
  });
}
