// Calendar days and local times in the configured time zone (config.TZ), computed with Intl so the
// answer never depends on the time zone of the process or host. A day is 'YYYY-MM-DD'; day
// arithmetic is done on the calendar (UTC dates), so a daylight-saving switch cannot make a day 23
// or 25 hours "long" and shift a reminder.

const DAY_MS = 86_400_000;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;

const formats = new Map<string, Intl.DateTimeFormat>();
/** One formatter per zone: creating them is the slow part. */
function formatIn(tz: string): Intl.DateTimeFormat {
  let format = formats.get(tz);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formats.set(tz, format);
  }
  return format;
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** What a wall clock in `tz` shows at `at`. */
function wallClock(at: Date, tz: string): WallClock {
  const parts: Record<string, number> = {};
  for (const p of formatIn(tz).formatToParts(at)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour! % 24, minute: parts.minute!, second: parts.second! };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** The calendar date in `tz` at the moment `at` ('YYYY-MM-DD'): the scan's "today". */
export function scanDay(at: Date, tz: string): string {
  const w = wallClock(at, tz);
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}`;
}

/** Minutes since local midnight in `tz` at `at` (08:00 is 480). */
export function localMinutes(at: Date, tz: string): number {
  const w = wallClock(at, tz);
  return w.hour * 60 + w.minute;
}

/** 'HH:MM' (24 h) as minutes since midnight; throws on anything else. */
export function parseTimeOfDay(time: string): number {
  const m = TIME.exec(time);
  if (!m) throw new Error(`not a time of day (HH:MM): '${time}'`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/** A 'YYYY-MM-DD' day as the UTC midnight of that date (for calendar arithmetic only). */
function dayMs(day: string): number {
  const m = DAY.exec(day);
  if (!m) throw new Error(`not a day (YYYY-MM-DD): '${day}'`);
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
}

/** Whole calendar days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  return Math.round((dayMs(to) - dayMs(from)) / DAY_MS);
}

/** The day `n` calendar days after `day` (before, for negative `n`). */
export function addDays(day: string, n: number): string {
  return new Date(dayMs(day) + n * DAY_MS).toISOString().slice(0, 10);
}

/** How far `tz`'s wall clock is ahead of UTC at `ms` (negative west of Greenwich). */
function offsetMs(ms: number, tz: string): number {
  const w = wallClock(new Date(ms), tz);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(ms / 1000) * 1000;
}

/**
 * The moment the wall clock in `tz` shows `time` ('HH:MM') on `day`. A time that a spring-forward
 * switch skips resolves to the same distance after the switch (02:30 → 03:30); a time that a
 * fall-back switch shows twice resolves to its first occurrence.
 */
export function localMoment(day: string, time: string, tz: string): Date {
  const wall = dayMs(day) + parseTimeOfDay(time) * 60_000;
  // Two rounds: the offset at a first guess, then at the moment that guess gives (they differ only
  // near a switch).
  const first = wall - offsetMs(wall, tz);
  const second = wall - offsetMs(first, tz);
  if (first === second) {
    // In a fall-back overlap both readings are right; the earlier one is the first occurrence.
    const earlier = new Date(wall - offsetMs(first - 3_600_000, tz));
    const showsTime = scanDay(earlier, tz) === day && localMinutes(earlier, tz) === parseTimeOfDay(time);
    return earlier.getTime() < first && showsTime ? earlier : new Date(first);
  }
  // A skipped time: neither reading shows `time`; take the later offset's reading (after the switch).
  return new Date(Math.max(first, second));
}
