import { z } from 'zod';
import { optional } from '../lib/validators.js';

/** POST /send-test-email: a blank `to` (the account page's empty field) means "my own address". */
export const testEmailInput = z.object({ to: optional(z.email('Give a valid address.')) });
