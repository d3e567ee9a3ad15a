// Issuing the one-click "extend" links of expiry reminders. Redeeming them is src/expiry/extend.ts.
import type { Transaction } from 'sequelize';
import type { Config } from '../../config/index.js';
import type { Models } from '../../models/index.js';
import type { ExpiryItemType } from '../../models/NotificationLog.js';
import { generateExtendToken, tokenKeys } from '../lib/tokens.js';

/** The path of an extend link (GET shows a confirmation page; POST extends). The token is a query parameter, which the request log blanks, not a path segment. */
export const extendPath = (token: string): string => `/expiry/link?token=${token}`;

/**
 * Stores a new single-use link for `username` to extend the item from `expiresOn`, valid
 * EXPIRY_LINK_DAYS from `now`, and returns its full URL (PUBLIC_URL based). Only the HMAC is stored.
 */
export async function issueExtendLink(
  deps: { models: Models; config: Config },
  item: { itemType: ExpiryItemType; itemId: number; username: string; expiresOn: string },
  now: Date,
  transaction: Transaction,
): Promise<string> {
  const { token, hash } = generateExtendToken(tokenKeys(deps.config));
  await deps.models.ExtendLink.create(
    { tokenHash: hash, ...item, validUntil: new Date(now.getTime() + deps.config.EXPIRY_LINK_DAYS * 86_400_000), usedAt: null },
    { transaction },
  );
  return `${deps.config.publicUrl}${extendPath(token)}`;
}
