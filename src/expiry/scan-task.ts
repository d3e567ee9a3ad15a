// The 'expiry.scan' job task (helper B fills this in).
export const EXPIRY_SCAN_TASK = 'expiry.scan';
