import { z } from 'zod';
import { localUsername } from '../lib/validators.js';

const today = () => new Date().toISOString().slice(0, 10);

export const registerInput = z.object({
  name: z.string({ error: 'Enter your name.' }).trim().min(1, 'Enter your name.').max(191, 'That name is too long.')
    // eslint-disable-next-line no-control-regex -- control characters are what is refused
    .refine((v) => !/[\u0000-\u001f\u007f<>]/.test(v), 'Names cannot contain < > or control characters.'),
  email: z.string({ error: 'Enter your email address.' }).trim().max(191, 'That address is too long.').pipe(z.email('Enter a valid email address.')),
  username: localUsername,
  reason: z.string({ error: 'Tell the admins why you need an account.' }).trim().min(5, 'Tell the admins why you need an account.').max(2000, 'Keep the reason under 2000 characters.'),
  endDate: z.union([z.literal('').transform(() => undefined), z.iso.date('Use a date (YYYY-MM-DD).')]).optional()
    .refine((v) => v === undefined || v >= today(), 'The end date is in the past.'),
});

export type RegisterInput = z.infer<typeof registerInput>;
