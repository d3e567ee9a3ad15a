import { z } from 'zod';
import { checkbox } from '../inventory/list-query.js';
import { registerInput } from './register.schema.js';

/**
 * An admin's approval. `takeOver` confirms that the new account takes over what the username
 * already owns; `username` creates the account under another name (the requested one's rule).
 */
export const approveInput = z.object({
  takeOver: checkbox('Take over'),
  username: z.union([z.literal('').transform(() => undefined), registerInput.shape.username]).optional(),
});

export type ApproveInput = z.infer<typeof approveInput>;

/** What a refused approval shows again on its request: the other username typed, if any. */
export const approveFormValues = z.object({ username: z.string().catch('') });
