import type mongoose from 'mongoose';

/**
 * Duplicate-key handling of the Mongo store: its writes are made idempotent by unique `_id`s
 * and indexes, so "already there" (E11000) is an expected answer and every other error is not.
 */

/**
 * True for a duplicate-key error and nothing else: an `insertOne` E11000, or a bulk write
 * whose every write error is E11000 (with no write-concern error). Duck-typed rather than
 * `instanceof`, since the host's mongoose may bundle another copy of the driver.
 */
export function isDuplicateKeyError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as {
    code?: unknown;
    writeErrors?: unknown;
    writeConcernError?: unknown;
    result?: { getWriteConcernError?: () => unknown };
  };
  if (e.writeConcernError != null || e.result?.getWriteConcernError?.() != null) return false;
  const writeErrors = e.writeErrors == null ? [] : Array.isArray(e.writeErrors) ? e.writeErrors : [e.writeErrors];
  if (writeErrors.length > 0) return writeErrors.every((w: { code?: unknown } | null) => isDuplicateCode(w?.code));
  return isDuplicateCode(e.code);
}

function isDuplicateCode(code: unknown): boolean {
  return code === 11000 || code === 11001;
}

/**
 * Unordered insert that tolerates documents already present (a retried or overlapping run);
 * any other failure is thrown. `throwOnValidationError`: without it an unordered mongoose
 * insertMany skips documents that fail casting/validation silently.
 */
export async function insertIgnoringDuplicates<T>(model: mongoose.Model<T>, docs: readonly T[]): Promise<void> {
  try {
    await model.insertMany([...docs], { ordered: false, throwOnValidationError: true });
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
  }
}
