//! Time elapsed between two UK clock times.
//!
//! Extracts record local (UK) clock times without a UTC offset. Subtracting two of them
//! is an hour off when a clock change lies between them: an A&E stay from 23:00 to 02:30
//! over the October change lasted 4 h 30 min, not 3 h 30 min, and one from 23:00 to
//! 04:00 over the March change lasted 4 h, not 5. [`elapsed_ms`] takes the changes into
//! account, by the rule in force since 1996: British Summer Time from 01:00 GMT on the
//! last Sunday of March to 01:00 GMT on the last Sunday of October. Times before 1996
//! (other rules) are taken as written.
//!
//! 01:00–02:00 on the March day never happens: a clock showing it had not yet changed,
//! so it is read as GMT. 01:00–02:00 on the October day happens twice and cannot be
//! placed for sure: of its two readings, the one giving the shortest stay that ends at
//! or after its start is taken, so a stay is never made longer than its recorded times
//! prove it was.

use std::sync::OnceLock;

use crate::ingest::dates::days_from_civil;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// First and last years the clock changes are applied to (the rule in force since 1996;
/// ingest accepts no date after 2100).
const FIRST_YEAR: i32 = 1996;
const LAST_YEAR: i32 = 2100;

/// The hour, in local clock time, in which the clocks change on one day.
#[derive(Debug, Clone, Copy)]
struct Change {
    /// 01:00 local on the day, in milliseconds since 1970 as the clock reads.
    start: i64,
    /// Clocks go forward (March: 01:00 becomes 02:00) rather than back (October).
    forward: bool,
}

/// The last Sunday of a 31-day month, in days since 1970-01-01.
fn last_sunday(year: i32, month: u32) -> i64 {
    let last = i64::from(days_from_civil(year, month, 31));
    // 1970-01-01 was a Thursday: day 0 is weekday 4 counting from Sunday.
    last - (last + 4).rem_euclid(7)
}

/// Every clock change from [`FIRST_YEAR`] to [`LAST_YEAR`], in order.
fn changes() -> &'static [Change] {
    static CHANGES: OnceLock<Vec<Change>> = OnceLock::new();
    CHANGES.get_or_init(|| {
        (FIRST_YEAR..=LAST_YEAR)
            .flat_map(|y| {
                [(3, true), (10, false)].map(|(month, forward)| Change {
                    start: last_sunday(y, month) * DAY_MS + HOUR_MS,
                    forward,
                })
            })
            .collect()
    })
}

/// How far a clock reading is ahead of GMT: one value, or either of two (the hour of a
/// change).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Offset {
    Known(i64),
    Either,
}

fn offset(local: i64) -> Offset {
    let changes = changes();
    let after = changes.partition_point(|c| c.start <= local);
    let Some(change) = after.checked_sub(1).map(|i| changes[i]) else {
        return Offset::Known(0);
    };
    let in_the_hour = local < change.start + HOUR_MS;
    match (change.forward, in_the_hour) {
        // After the March change: summer time.
        (true, false) => Offset::Known(HOUR_MS),
        // The October hour that happens twice.
        (false, true) => Offset::Either,
        // The March hour that never happens (a clock not yet changed), or after October.
        _ => Offset::Known(0),
    }
}

fn readings(o: Offset) -> &'static [i64] {
    match o {
        Offset::Known(0) => &[0],
        Offset::Known(_) => &[HOUR_MS],
        Offset::Either => &[0, HOUR_MS],
    }
}

/// Milliseconds from `start` to `end`, both UK clock times in milliseconds since 1970
/// as the clock reads, with clock changes between them taken into account (see the
/// module doc). An end before its start, whatever the reading, is returned as written.
pub fn elapsed_ms(start: i64, end: i64) -> i64 {
    elapsed(start, end, HOUR_MS)
}

/// As [`elapsed_ms`], for times counted in units of which an hour holds `per_hour`
/// (3,600,000 for milliseconds, a thousand times more for micro-, a million for
/// nanoseconds).
pub fn elapsed(start: i64, end: i64, per_hour: i64) -> i64 {
    let per_ms = (per_hour / HOUR_MS).max(1);
    let as_written = end - start;
    let (a, b) = (offset(start / per_ms), offset(end / per_ms));
    if a == b && a != Offset::Either {
        return as_written;
    }
    readings(a)
        .iter()
        .flat_map(|&from| {
            readings(b)
                .iter()
                .map(move |&to| as_written + (from - to) * per_ms)
        })
        .filter(|&ms| ms >= 0)
        .min()
        .unwrap_or(as_written)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Milliseconds since 1970 of the clock reading `y-m-d h:min`.
    fn at(y: i32, m: u32, d: u32, h: i64, min: i64) -> i64 {
        i64::from(days_from_civil(y, m, d)) * DAY_MS + h * HOUR_MS + min * 60_000
    }

    const MIN: i64 = 60_000;

    #[test]
    fn the_last_sundays_are_the_days_the_clocks_change() {
        // Published UK clock changes.
        for (y, march, october) in [
            (2023, 26, 29),
            (2024, 31, 27),
            (2025, 30, 26),
            (1996, 31, 27),
        ] {
            assert_eq!(
                last_sunday(y, 3),
                i64::from(days_from_civil(y, 3, march)),
                "{y}"
            );
            assert_eq!(
                last_sunday(y, 10),
                i64::from(days_from_civil(y, 10, october)),
                "{y}"
            );
        }
    }

    #[test]
    fn a_stay_over_the_october_change_is_an_hour_longer_than_its_clock_times() {
        // 23:00 BST to 02:30 GMT: 4 h 30 min.
        assert_eq!(
            elapsed_ms(at(2024, 10, 26, 23, 0), at(2024, 10, 27, 2, 30)),
            270 * MIN
        );
    }

    #[test]
    fn a_stay_over_the_march_change_is_an_hour_shorter_than_its_clock_times() {
        // 23:00 GMT to 04:00 BST: 4 hours.
        assert_eq!(
            elapsed_ms(at(2024, 3, 30, 23, 0), at(2024, 3, 31, 4, 0)),
            240 * MIN
        );
    }

    #[test]
    fn stays_on_one_side_of_a_change_are_their_clock_times() {
        for (start, end) in [
            (at(2024, 6, 5, 8, 0), at(2024, 6, 5, 12, 30)),
            (at(2024, 12, 31, 22, 0), at(2025, 1, 1, 3, 0)),
            (at(2024, 10, 27, 2, 0), at(2024, 10, 27, 7, 0)),
            (at(2024, 3, 31, 2, 0), at(2024, 3, 31, 7, 0)),
            (at(1995, 10, 21, 23, 0), at(1995, 10, 22, 3, 0)),
        ] {
            assert_eq!(elapsed_ms(start, end), end - start);
        }
    }

    #[test]
    fn a_time_in_the_october_hour_twice_over_gives_the_shortest_stay() {
        // Departure at 01:30 could be the first (BST) or the second (GMT) 01:30: the
        // first, 2 h 30 min, is taken.
        assert_eq!(
            elapsed_ms(at(2024, 10, 26, 23, 0), at(2024, 10, 27, 1, 30)),
            150 * MIN
        );
        // Arrival at 01:30, either one; departure 03:00 GMT: 1 h 30 min at least.
        assert_eq!(
            elapsed_ms(at(2024, 10, 27, 1, 30), at(2024, 10, 27, 3, 0)),
            90 * MIN
        );
        // Both in the hour, the end's clock earlier: arrival in BST, departure in GMT.
        assert_eq!(
            elapsed_ms(at(2024, 10, 27, 1, 50), at(2024, 10, 27, 1, 10)),
            20 * MIN
        );
        // Both in the hour, in order: the same pass.
        assert_eq!(
            elapsed_ms(at(2024, 10, 27, 1, 10), at(2024, 10, 27, 1, 50)),
            40 * MIN
        );
    }

    #[test]
    fn a_time_in_the_march_hour_that_never_happened_is_read_as_gmt() {
        // 01:30 on the March day was recorded by a clock not yet changed (GMT).
        assert_eq!(
            elapsed_ms(at(2024, 3, 30, 23, 0), at(2024, 3, 31, 1, 30)),
            150 * MIN
        );
        assert_eq!(
            elapsed_ms(at(2024, 3, 31, 1, 30), at(2024, 3, 31, 5, 0)),
            150 * MIN
        );
    }

    #[test]
    fn microseconds_and_nanoseconds_are_corrected_in_their_unit() {
        let (start, end) = (at(2024, 10, 26, 23, 0), at(2024, 10, 27, 2, 30));
        assert_eq!(
            elapsed(start * 1000, end * 1000, HOUR_MS * 1000),
            270 * MIN * 1000
        );
        assert_eq!(
            elapsed(start * 1_000_000, end * 1_000_000, HOUR_MS * 1_000_000),
            270 * MIN * 1_000_000
        );
    }

    #[test]
    fn an_end_before_its_start_stays_as_written() {
        assert_eq!(
            elapsed_ms(at(2024, 6, 5, 12, 0), at(2024, 6, 5, 8, 0)),
            -240 * MIN
        );
    }
}
