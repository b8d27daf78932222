//! Which file holds a publication period when two offer it: two files of one run, or
//! this run's file against the one an earlier run published.
//!
//! The rule. When both files' dates are known (a sitrep workbook's revision date, else
//! its publication date, from its Cover Sheet) and differ, the later date wins. Otherwise
//! the dates do not decide, and an unknown date is not taken for an older one (a workbook
//! without a Cover Sheet has none, and A&E files never carry one): a file whose name says
//! "revised" wins over one whose name does not, and then the file that arrived later — a
//! later run, or later in the folder's name order. Within one run, dates decide only when
//! every file offering the period has one, so the choice does not depend on the order the
//! files are compared in.
//!
//! A warning never calls a file "a later revision" unless both dates are known.

use chrono::NaiveDate;

/// One file's claim to a period.
#[derive(Debug, Clone)]
pub(super) struct Claim<'a> {
    /// The file's name (as the data's `source_file` carries it).
    pub file: &'a str,
    /// Its revision date, else its publication date, when the file gives one.
    pub stamp: Option<NaiveDate>,
    /// Its name says it is a revision ("…-revised.csv").
    pub revised: bool,
}

/// True when a file's name says it is a revision ("…-revised.csv", "Revised …"): NHS
/// England's A&E files carry no revision date, and in name order `2016-04-01-revised.csv`
/// comes before `2016-04-01.csv`.
pub(super) fn says_revised(name: &str) -> bool {
    name.to_ascii_lowercase().contains("revised")
}

/// What decided between two claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Why {
    /// Both dates known and different: the later.
    LaterDate,
    /// The dates did not decide: the one whose name says "revised".
    RevisedName,
    /// Nothing else decided: the one that arrived later.
    Arrival,
}

/// Whether the claim that arrived `later` wins over the one that arrived `earlier`, and
/// why. `dates` says whether dates may decide (both known, or, in one run, every file's).
fn later_wins(earlier: &Claim, later: &Claim, dates: bool) -> (bool, Why) {
    if dates
        && let (Some(a), Some(b)) = (earlier.stamp, later.stamp)
        && a != b
    {
        return (b > a, Why::LaterDate);
    }
    if earlier.revised != later.revised {
        return (later.revised, Why::RevisedName);
    }
    (true, Why::Arrival)
}

/// Of the claims to one period in one run, in landing order, the index of the one that
/// holds it.
pub(super) fn choose(claims: &[Claim]) -> usize {
    let dates = claims.iter().all(|c| c.stamp.is_some());
    (1..claims.len()).fold(0, |w, i| {
        if later_wins(&claims[w], &claims[i], dates).0 {
            i
        } else {
            w
        }
    })
}

/// Why claim `winner` holds the period over claim `loser` of the same run (indexes into
/// `claims`, in landing order), in words; `ae` for A&E files, which carry no dates.
pub(super) fn in_run_reason(claims: &[Claim], winner: usize, loser: usize, ae: bool) -> String {
    let dates = claims.iter().all(|c| c.stamp.is_some());
    let (w, l) = (&claims[winner], &claims[loser]);
    let why = if loser < winner {
        later_wins(l, w, dates).1
    } else {
        later_wins(w, l, dates).1
    };
    let undated: Vec<&str> = claims
        .iter()
        .filter(|c| c.stamp.is_none())
        .map(|c| c.file)
        .collect();
    words(
        w,
        l,
        why,
        ae,
        &undated,
        &format!("{} comes later in name order", w.file),
    )
}

/// What becomes of a period this run loads that an earlier run published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum AgainstPublished {
    /// The published file is kept, for this reason.
    Keep(String),
    /// This run's file replaces it; with the reason when the dates could not be compared
    /// (a warning: the choice rests on the name or the order the files arrived in).
    Replace(Option<String>),
}

/// Whether this run's `new` claim replaces the `published` one of an earlier run.
pub(super) fn against_published(published: &Claim, new: &Claim, ae: bool) -> AgainstPublished {
    let dates = published.stamp.is_some() && new.stamp.is_some();
    let undated: Vec<&str> = [published, new]
        .iter()
        .filter(|c| c.stamp.is_none())
        .map(|c| c.file)
        .collect();
    match later_wins(published, new, dates) {
        (false, why) => AgainstPublished::Keep(words(published, new, why, ae, &undated, "")),
        (true, why) if !dates && !ae && published.file != new.file => {
            AgainstPublished::Replace(Some(words(
                new,
                published,
                why,
                ae,
                &undated,
                &format!("{} was loaded by a later run", new.file),
            )))
        }
        (true, _) => AgainstPublished::Replace(None),
    }
}

/// Why `w` wins over `l`, in words. `undated` names the files without a date (so the
/// dates could not decide); `arrival` says how `w` arrived later, when that decided.
fn words(w: &Claim, l: &Claim, why: Why, ae: bool, undated: &[&str], arrival: &str) -> String {
    let date = |c: &Claim| c.stamp.map(|d| d.to_string()).unwrap_or_default();
    if why == Why::LaterDate {
        return format!(
            "{} is a later revision (dated {}; {} is dated {})",
            w.file,
            date(w),
            l.file,
            date(l)
        );
    }
    let dates = if ae {
        "A&E files carry no revision date".to_string()
    } else if undated.is_empty() {
        format!("both are dated {}", date(w))
    } else {
        format!(
            "{} {} no publication or revision date, so the dates cannot be compared",
            undated.join(" and "),
            if undated.len() == 1 { "gives" } else { "give" }
        )
    };
    let decided = match why {
        Why::RevisedName => format!(
            "{}'s name says it is a revision and {}'s does not",
            w.file, l.file
        ),
        _ => arrival.to_string(),
    };
    format!("{dates}; {decided}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(file: &str, stamp: Option<(i32, u32, u32)>) -> Claim<'_> {
        Claim {
            file,
            stamp: stamp.map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap()),
            revised: says_revised(file),
        }
    }

    /// Regression (review): a workbook without a Cover Sheet (no date) sorted before every
    /// dated one, so NHS England's October 2024 workbook, published without one, never
    /// replaced an earlier load of its period, with the warning that the earlier file was
    /// "a later revision".
    #[test]
    fn regression_an_undated_workbook_is_not_taken_for_an_older_one() {
        let dated = claim("acute-oct-2024.xlsx", Some((2024, 11, 14)));
        let undated = claim("acute-oct-2024-v2.xlsx", None);
        assert_eq!(
            against_published(&dated, &undated, false),
            AgainstPublished::Replace(Some(
                "acute-oct-2024-v2.xlsx gives no publication or revision date, so the dates cannot be compared; acute-oct-2024-v2.xlsx was loaded by a later run".to_string()
            ))
        );
        // Published from the undated file, a dated one arrives: it replaces it too.
        assert_eq!(
            against_published(&undated, &dated, false),
            AgainstPublished::Replace(Some(
                "acute-oct-2024-v2.xlsx gives no publication or revision date, so the dates cannot be compared; acute-oct-2024.xlsx was loaded by a later run".to_string()
            ))
        );
        // In one run: the later in name order, whichever has the date.
        let claims = [dated.clone(), undated.clone()];
        assert_eq!(choose(&claims), 1);
        assert_eq!(
            in_run_reason(&claims, 1, 0, false),
            "acute-oct-2024-v2.xlsx gives no publication or revision date, so the dates cannot be compared; acute-oct-2024-v2.xlsx comes later in name order"
        );
        let claims = [undated, dated];
        assert_eq!(choose(&claims), 1);
    }

    #[test]
    fn known_dates_decide_and_only_they_make_a_later_revision() {
        let june = claim("june.xlsx", Some((2023, 7, 13)));
        let revised = claim("june-b.xlsx", Some((2023, 8, 10)));
        assert_eq!(
            against_published(&revised, &june, false),
            AgainstPublished::Keep(
                "june-b.xlsx is a later revision (dated 2023-08-10; june.xlsx is dated 2023-07-13)"
                    .to_string()
            )
        );
        assert_eq!(
            against_published(&june, &revised, false),
            AgainstPublished::Replace(None)
        );
        let claims = [revised, june];
        assert_eq!(choose(&claims), 0);
        assert_eq!(
            in_run_reason(&claims, 0, 1, false),
            "june-b.xlsx is a later revision (dated 2023-08-10; june.xlsx is dated 2023-07-13)"
        );
        // The same date: the later file.
        let again = claim("june-copy.xlsx", Some((2023, 7, 13)));
        let claims = [claim("june.xlsx", Some((2023, 7, 13))), again];
        assert_eq!(choose(&claims), 1);
        assert_eq!(
            in_run_reason(&claims, 1, 0, false),
            "both are dated 2023-07-13; june-copy.xlsx comes later in name order"
        );
    }

    #[test]
    fn within_a_run_one_undated_file_stops_dates_deciding_for_all() {
        // Compared pairwise in order, August beat the undated file, which lost to July:
        // the winner depended on the order. With any date unknown, the order decides.
        let claims = [
            claim("a.xlsx", Some((2024, 8, 1))),
            claim("b.xlsx", None),
            claim("c.xlsx", Some((2024, 7, 1))),
        ];
        assert_eq!(choose(&claims), 2);
        assert_eq!(
            in_run_reason(&claims, 2, 0, false),
            "b.xlsx gives no publication or revision date, so the dates cannot be compared; c.xlsx comes later in name order"
        );
    }

    #[test]
    fn a_file_named_revised_wins_when_dates_do_not_decide() {
        let original = claim("2016-04-01.csv", None);
        let revised = claim("2016-04-01-revised.csv", None);
        let claims = [revised.clone(), original.clone()];
        assert_eq!(choose(&claims), 0);
        assert_eq!(
            in_run_reason(&claims, 0, 1, true),
            "A&E files carry no revision date; 2016-04-01-revised.csv's name says it is a revision and 2016-04-01.csv's does not"
        );
        assert_eq!(
            against_published(&revised, &original, true),
            AgainstPublished::Keep(
                "A&E files carry no revision date; 2016-04-01-revised.csv's name says it is a revision and 2016-04-01.csv's does not".to_string()
            )
        );
        // An A&E file replacing another is the usual case: no warning.
        assert_eq!(
            against_published(&original, &claim("2016-04-01-b.csv", None), true),
            AgainstPublished::Replace(None)
        );
    }
}
