import { z } from 'zod';
import { MIN_PASSWORD_LENGTH } from '../lib/passwords.js';

const newPassword = z.string({ error: 'Choose a password.' })
  .min(MIN_PASSWORD_LENGTH, `Use at least ${MIN_PASSWORD_LENGTH} characters.`)
  .max(1024, 'That password is too long.');

const confirmed = <T extends { newPassword: string; confirmPassword: string }>(v: T) => v.newPassword === v.confirmPassword;
const mismatch = { message: 'The two passwords differ.', path: ['confirmPassword'] };

export const changePasswordInput = z.object({
  currentPassword: z.string({ error: 'Enter your current password.' }).min(1, 'Enter your current password.').max(1024),
  newPassword,
  confirmPassword: z.string().default(''),
}).refine(confirmed, mismatch);

/** The token of a set-password link (query on the page, body on the form); anything else is no token. */
export const linkTokenInput = z.object({ token: z.string().catch('') });

export const setPasswordInput = z.object({
  token: z.string().max(100),
  newPassword,
  confirmPassword: z.string().default(''),
}).refine(confirmed, mismatch);

export const decisionInput = z.object({
  reason: z.string({ error: 'Give the requester a reason.' }).trim().min(3, 'Give the requester a reason.').max(1000, 'Keep the reason under 1000 characters.'),
});

