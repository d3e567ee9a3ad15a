import type { z } from 'zod';
import { ValidationError } from './errors.js';

/**
 * Parses untrusted input (req.body, req.query) into a typed value, or throws a ValidationError whose
 * `fields` map each offending field to a readable message (re-rendered on the form, or sent as JSON).
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const fields: Record<string, string> = {};
  for (const issue of result.error.issues) {
    const key = issue.path.map(String).join('.') || 'input';
    fields[key] ??= issue.message;
  }
  throw new ValidationError('Please correct the highlighted fields.', fields);
}
