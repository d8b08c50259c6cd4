// The targets of issue 2, checked by the single runs (report.ts) and by the paired ones (paired.ts).

export const MIN_SHARE_OF_BARE = 0.8;
export const MIN_TIMES_PORTKEY = 10;
export const MAX_ADDED_P50_MS = 0.5;
