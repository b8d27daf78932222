//! `patient_journey`: one row per hospital spell, joined to the person's A&E attendance,
//! social-care request, assessment and service, with pathway and readmission.
//!
//! - The A&E attendance that led to an emergency admission: same person, arrival at or
//!   before the admission datetime and at most `ed_window_hours` before it; the latest
//!   such wins, and an attendance leads only to the person's first emergency admission
//!   after its arrival (planned admissions take none).
//! - The social-care request from hospital: the first request with route
//!   `discharge_route`, same person, starting between admission and the window end
//!   (ready date, else discharge date, else admission date, + `care_window_days`); the
//!   first assessment in the same interval.
//! - The awaited service: the first social-care service, same person, starting on or
//!   after the discharge ready date and at most `care_window_days` after it.
//! - Each window ends before the person's next admission after this spell's discharge (a
//!   later spell of theirs; a spell admitted during this stay does not end it): a request
//!   or service after it belongs to that spell, not to this one. A spell whose stay goes
//!   on in another (nested in it, or overlapping one discharged later) ends the day after
//!   its discharge: care after that belongs to the stay that goes on. The service's group
//!   (reablement, home_care, short_term_bed, care_home, other) is the awaited service and
//!   its council the spell's local authority (else the request's council). `none` when no
//!   service links.
//! - Discharge pathway: P1 when the awaited service is reablement or home care, P2 for a
//!   short-term bed, P3 for a care home; otherwise from the destination: a care home or
//!   council accommodation is P3 (new placement) unless the patient was admitted from one
//!   (P3b, an existing resident discharged back, as in NHS England's discharge sitrep),
//!   the usual or a temporary residence is P0, anything else `other`; null while in
//!   hospital or when the patient died (destination 79, or discharge method 4 or 5).
//! - Emergency readmission: another spell of the same person, admitted as an emergency
//!   after this spell's admission (datetime, then spell id) and between the discharge
//!   date and `readmission_window_days` after it, and not a transfer in from another
//!   provider (admission method 2B). Null while the spell is open, when the patient
//!   died, and when they were transferred to another NHS provider (destination group
//!   `nhs_provider`: their stay goes on in the receiving spell, whose own readmission
//!   counts), and for a spell without a person (no valid NHS number: a readmission
//!   could not be seen). The window is a setting; the column keeps its name,
//!   `emergency_readmission_30d`.
//! - A spell without a person links to nothing; its pathway comes from its destination.

use polars::prelude::*;

use super::by_person::{ByPerson, Ints, Mask, Texts, text_iter};
use super::person_index::PERSON;
use crate::config::LinkPlan;

/// The spell's source, carried for the measures and dropped before the journey is
/// written (`spell_id` is unique only within a provider, so it cannot be joined back).
pub const SOURCE: &str = "_source";

/// For each spell, the row of another frame it links to (null: none), in spell order.
type Links = IdxCa;

fn links(name: &str, rows: impl Iterator<Item = Option<IdxSize>>) -> Links {
    IdxCa::from_iter_options(name.into(), rows)
}

/// Milliseconds, microseconds or nanoseconds in an hour, by a datetime column's unit.
fn per_hour(column: &Column) -> PolarsResult<i64> {
    match column.dtype() {
        DataType::Datetime(TimeUnit::Milliseconds, _) => Ok(3_600_000),
        DataType::Datetime(TimeUnit::Microseconds, _) => Ok(3_600_000_000),
        DataType::Datetime(TimeUnit::Nanoseconds, _) => Ok(3_600_000_000_000),
        dt => polars_bail!(ComputeError: "{} is {dt}, not a datetime", column.name()),
    }
}

/// The A&E attendance that led to each emergency admission: the person's latest arrival
/// at or before the admission datetime (equal arrivals: the greatest attendance id, then
/// the later row), kept when at most `ed_window_hours` before it and when this is the
/// person's first emergency admission at or after that arrival (equal admission times:
/// the smallest spell id). An attendance leads to one admission, and only to an
/// emergency one: a planned admission (the next morning, or an hour after the
/// attendance) does not take it.
fn ed_links(
    spells: &DataFrame,
    persons: &UInt32Chunked,
    ed: &DataFrame,
    link: &LinkPlan,
) -> PolarsResult<Links> {
    let (admitted_col, arrival_col) = (spells.column("admission_datetime")?, ed.column("arrival")?);
    let unit = per_hour(admitted_col)?;
    polars_ensure!(
        unit == per_hour(arrival_col)?,
        ComputeError: "admission_datetime and arrival have different time units"
    );
    let window = link.ed_window_hours * unit;
    let arrival = Ints::of(arrival_col)?;
    let ids = Texts::of(ed.column("attendance_id")?)?;
    let by = ByPerson::new(
        ed.column(PERSON)?.u32()?,
        |_| true,
        |r| arrival.get(r),
        |a, b| ids.get(a).cmp(&ids.get(b)),
    );
    let admitted = Ints::of(admitted_col)?;
    let emergency = Mask::of(spells, col("admission_type").eq(lit("emergency")))?;
    let spell_ids = Texts::of(spells.column("spell_id")?)?;
    let spells_by = emergency_admissions(persons, &emergency, &admitted, &spell_ids);
    Ok(links(
        "ed",
        persons.iter().enumerate().map(|(i, p)| {
            if !emergency.get(i) {
                return None;
            }
            let t = admitted.get(i as IdxSize)?;
            let (r, a) = by.last_at_or_before(p?, t)?;
            let (first, _) = spells_by.first_at_or_after(p?, a, |_| false)?;
            (a >= t - window && first == i as IdxSize).then_some(r)
        }),
    ))
}

/// The A&E columns the journey reads.
pub const ED_COLUMNS: [&str; 4] = [PERSON, "attendance_id", "arrival", "departure"];

/// Picks, from A&E attendances read a part at a time, the only ones that can link to a
/// spell: those of a person admitted as an emergency at or after the arrival and at
/// most `ed_window_hours` after it. Linking with these instead of every attendance gives the
/// same links: the attendance a spell links to is one of them, and any other attendance
/// of the person between it and the admission is one of them too (so the latest is
/// unchanged), while a spell whose latest attendance is out of the window finds none in
/// it either way.
pub struct EdCandidates {
    by: ByPerson,
    window: i64,
    unit: i64,
}

impl EdCandidates {
    /// From the spells (their [`PERSON`], `admission_type` and `admission_datetime`):
    /// only emergency admissions take an attendance.
    pub fn new(spells: &DataFrame, link: &LinkPlan) -> PolarsResult<Self> {
        let admitted_col = spells.column("admission_datetime")?;
        let unit = per_hour(admitted_col)?;
        let admitted = Ints::of(admitted_col)?;
        let emergency = Mask::of(spells, col("admission_type").eq(lit("emergency")))?;
        let by = ByPerson::new(
            spells.column(PERSON)?.u32()?,
            |i| emergency.get(i),
            |r| admitted.get(r),
            |_, _| std::cmp::Ordering::Equal,
        );
        Ok(EdCandidates {
            by,
            window: link.ed_window_hours * unit,
            unit,
        })
    }

    /// The [`ED_COLUMNS`] of the attendances in `part` that can link to a spell.
    pub fn pick(&self, part: &DataFrame) -> PolarsResult<DataFrame> {
        let arrival_col = part.column("arrival")?;
        polars_ensure!(
            self.unit == per_hour(arrival_col)?,
            ComputeError: "admission_datetime and arrival have different time units"
        );
        let arrival = Ints::of(arrival_col)?;
        let keep: BooleanChunked = part
            .column(PERSON)?
            .u32()?
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let hit = p.zip(arrival.get(i as IdxSize)).and_then(|(p, a)| {
                    self.by
                        .first_at_or_after(p, a, |_| false)
                        .filter(|(_, admitted)| *admitted <= a + self.window)
                });
                Some(hit.is_some())
            })
            .collect();
        part.select(ED_COLUMNS)?.filter(&keep)
    }
}

/// The dates of each spell that linking reads, read once for every kind of link.
struct Stay {
    admitted: Ints,
    discharged: Ints,
    ready: Ints,
}

impl Stay {
    fn of(spells: &DataFrame) -> PolarsResult<Self> {
        Ok(Stay {
            admitted: Ints::of(spells.column("admission_date")?)?,
            discharged: Ints::of(spells.column("discharge_date")?)?,
            ready: Ints::of(spells.column("discharge_ready_date")?)?,
        })
    }
}

/// Where each spell's care window ends: the first day (exclusive) on which a care event
/// no longer belongs to it; `None` when nothing ends it.
///
/// - A later admission of the person (admission date, then datetime, then spell id) on
///   or after this spell's discharge date ends it at that admission: care after a
///   readmission belongs to the readmission. An admission during the stay (a nested or
///   overlapping spell, admitted before the discharge date) does not end it. A spell
///   still open is ended by the person's next admission, as nothing says its stay goes
///   on.
/// - A spell whose stay goes on in another spell of the person (one overlapping it and
///   discharged later; discharged the same day, the one admitted first) ends the day
///   after its own discharge: care after it belongs to the stay that goes on, so a
///   service is never linked to two spells.
///
/// One pass down each person's spells in admission order, with a running maximum of the
/// discharges before each spell and a scan of the spells admitted during its stay.
fn window_ends(
    spells: &DataFrame,
    stay: &Stay,
    persons: &UInt32Chunked,
) -> PolarsResult<Vec<Option<i64>>> {
    let (admitted, discharged) = (&stay.admitted, &stay.discharged);
    let at = Ints::of(spells.column("admission_datetime")?)?;
    let ids = Texts::of(spells.column("spell_id")?)?;
    // Equal admission dates: the datetime, then the spell id (text).
    let tie = |a: IdxSize, b: IdxSize| {
        at.get(a)
            .cmp(&at.get(b))
            .then_with(|| ids.get(a).cmp(&ids.get(b)))
    };
    let by = ByPerson::new(persons, |_| true, |r| admitted.get(r), tie);
    let mut ends = vec![None; spells.height()];
    by.for_each_person(|rows, keys| {
        let n = rows.len();
        let same = |a: usize, b: usize| keys[a] == keys[b] && tie(rows[a], rows[b]).is_eq();
        // The first position of each spell's group of equal spells, and the first after it.
        let mut first = vec![0usize; n];
        for k in 1..n {
            first[k] = if same(k - 1, k) { first[k - 1] } else { k };
        }
        let mut after = vec![n; n];
        for k in (0..n.saturating_sub(1)).rev() {
            after[k] = if same(k, k + 1) { after[k + 1] } else { k + 1 };
        }
        // The latest discharge of the spells admitted before each group.
        let mut latest = None::<i64>;
        let mut latest_before = vec![None; n];
        for k in 0..n {
            if k > 0 && first[k] == k {
                for &r in &rows[first[k - 1]..k] {
                    latest = latest.max(discharged.get(r));
                }
            }
            latest_before[k] = latest;
        }
        for k in 0..n {
            let i = rows[k];
            let end = match discharged.get(i) {
                None => (after[k] < n).then(|| keys[after[k]]),
                Some(d) => {
                    let a = keys[k];
                    // Admitted on or after the discharge date, later than this spell.
                    let from = after[k].max(keys.partition_point(|x| *x < d));
                    let next = (from < n).then(|| keys[from]);
                    // The stay goes on in an earlier spell discharged the same day or
                    // later, or in one admitted during it (or equal to it) and
                    // discharged later.
                    let earlier = latest_before[k].is_some_and(|e| e >= d && e > a);
                    let during = (first[k]..keys.partition_point(|x| *x < d))
                        .filter(|&j| j != k)
                        .any(|j| discharged.get(rows[j]).is_some_and(|e| e > d));
                    let goes_on = (earlier || during).then_some(d + 1);
                    match (next, goes_on) {
                        (Some(x), Some(y)) => Some(x.min(y)),
                        (x, y) => x.or(y),
                    }
                }
            };
            ends[i as usize] = end;
        }
    });
    Ok(ends)
}

/// Each spell's social-care request from hospital, assessment and awaited service.
struct CareLinks {
    request: Links,
    assessment: Links,
    service: Links,
}

/// - Request and assessment: the person's first `discharge_route` request (same day: the
///   smallest council code) and first assessment on or after the admission date, kept
///   when on or before the window end (ready date, else discharge date, else admission
///   date, + `care_window_days`).
/// - Service: the person's first service on or after the ready date (same day: by
///   service group, then council), kept when at most `care_window_days` after it.
/// - Both kept only when they start before the spell's window end ([`window_ends`]).
///
/// Events the same on every ordering key keep their row order.
fn care_links(
    stay: &Stay,
    ends: &[Option<i64>],
    persons: &UInt32Chunked,
    care: &DataFrame,
    link: &LinkPlan,
) -> PolarsResult<CareLinks> {
    let start = Ints::of(care.column("event_start")?)?;
    let la = Texts::of(care.column("la_code")?)?;
    let group = Texts::of(care.column("service_group")?)?;
    let care_persons = care.column(PERSON)?.u32()?;
    let ordered = |expr: Expr,
                   then: &dyn Fn(IdxSize, IdxSize) -> std::cmp::Ordering|
     -> PolarsResult<ByPerson> {
        let mask = Mask::of(care, expr)?;
        Ok(ByPerson::new(
            care_persons,
            |i| mask.get(i),
            |r| start.get(r),
            then,
        ))
    };
    let requests = ordered(
        col("event_type")
            .eq(lit("Request"))
            .and(col("route_of_access").eq(lit(link.discharge_route.clone()))),
        &|a, b| la.get(a).cmp(&la.get(b)),
    )?;
    let assessments = ordered(col("event_type").eq(lit("Assessment")), &|_, _| {
        std::cmp::Ordering::Equal
    })?;
    let services = ordered(col("event_type").eq(lit("Service")), &|a, b| {
        let g = |r| group.get(r).unwrap_or("other");
        g(a).cmp(g(b)).then_with(|| la.get(a).cmp(&la.get(b)))
    })?;

    let Stay {
        admitted,
        discharged,
        ready,
    } = stay;
    let days = link.care_window_days;
    let before_end = |i: IdxSize, start: i64| ends[i as usize].is_none_or(|n| start < n);
    let in_stay = |by: &ByPerson| {
        links(
            "care",
            persons.iter().enumerate().map(|(i, p)| {
                let i = i as IdxSize;
                let a = admitted.get(i)?;
                let end = ready.get(i).or(discharged.get(i)).unwrap_or(a) + days;
                let (r, start) = by.first_at_or_after(p?, a, |_| false)?;
                (start <= end && before_end(i, start)).then_some(r)
            }),
        )
    };
    let service = links(
        "service",
        persons.iter().enumerate().map(|(i, p)| {
            let i = i as IdxSize;
            let d = ready.get(i)?;
            let (r, start) = services.first_at_or_after(p?, d, |_| false)?;
            (start <= d + days && before_end(i, start)).then_some(r)
        }),
    );
    Ok(CareLinks {
        request: in_stay(&requests),
        assessment: in_stay(&assessments),
        service,
    })
}

/// Each person's emergency spells with an admission `admitted` (a date or a datetime),
/// in admission order (equal admissions: the smallest spell id).
fn emergency_admissions(
    persons: &UInt32Chunked,
    emergency: &Mask,
    admitted: &Ints,
    ids: &Texts,
) -> ByPerson {
    ByPerson::new(
        persons,
        |i| emergency.get(i),
        |r| admitted.get(r),
        |a, b| ids.get(a).cmp(&ids.get(b)),
    )
}

/// Each spell's emergency readmission: another spell of the same person admitted as an
/// emergency between the discharge date and `readmission_window_days` after it; the
/// earliest (same day: the smallest spell id).
fn readmission_links(
    spells: &DataFrame,
    stay: &Stay,
    persons: &UInt32Chunked,
    link: &LinkPlan,
) -> PolarsResult<Links> {
    // A transfer in from another provider's ward (2B) continues a stay elsewhere: no
    // readmission.
    let emergency = Mask::of(
        spells,
        col("admission_type").eq(lit("emergency")).and(
            col("admission_method")
                .neq(lit("2B"))
                .or(col("admission_method").is_null()),
        ),
    )?;
    let (admitted, discharged) = (&stay.admitted, &stay.discharged);
    let ids = Texts::of(spells.column("spell_id")?)?;
    // Admitted later than the spell itself (datetime, then spell id): a spell admitted
    // earlier on its discharge day is not its readmission.
    let at = Ints::of(spells.column("admission_datetime")?)?;
    let later = |r: IdxSize, i: IdxSize| (at.get(r), ids.get(r)) > (at.get(i), ids.get(i));
    let by = emergency_admissions(persons, &emergency, admitted, &ids);
    let days = link.readmission_window_days;
    Ok(links(
        "readmission",
        persons.iter().enumerate().map(|(i, p)| {
            let i = i as IdxSize;
            let d = discharged.get(i)?;
            let (r, admitted) = by.first_at_or_after(p?, d, |r| !later(r, i))?;
            (admitted <= d + days).then_some(r)
        }),
    ))
}

/// What a linking thread returned (a panic as an error).
fn joined<T>(h: std::thread::ScopedJoinHandle<'_, PolarsResult<T>>) -> PolarsResult<T> {
    h.join()
        .unwrap_or_else(|_| polars_bail!(ComputeError: "a linking thread panicked"))
}

/// Admission sources that mean the patient lived in a care home or council accommodation.
const FROM_CARE_HOME: [&str; 4] = ["54", "65", "66", "85"];

/// Discharge methods that mean the patient died (died; stillbirth): such a spell has no
/// pathway whatever its destination says.
const DIED: [&str; 2] = ["4", "5"];

/// Whether each spell's discharge can be followed by a readmission: not when the patient
/// died (destination group `died`, discharge method 4 or 5) or was transferred to another
/// NHS provider (destination group `nhs_provider`).
fn readmission_counts(spells: &DataFrame) -> PolarsResult<Vec<bool>> {
    Ok(text_iter(spells.column("discharge_destination_group")?)?
        .zip(text_iter(spells.column("discharge_method")?)?)
        .map(|(group, method)| {
            !(matches!(group, Some("died" | "nhs_provider"))
                || method.is_some_and(|m| DIED.contains(&m)))
        })
        .collect())
}

/// Each spell's discharge pathway (see the module doc), from the awaited service as
/// gathered (null: no linked service), the destination group and the admission source;
/// one pass over the rows, reading codes in place; a categorical.
fn pathways(spells: &DataFrame, awaited: &Column) -> PolarsResult<Column> {
    let discharged = spells.column("discharge_date")?.is_not_null();
    let rows = discharged
        .iter()
        .zip(text_iter(spells.column("discharge_destination_group")?)?)
        .zip(text_iter(awaited)?)
        .zip(text_iter(spells.column("admission_source")?)?)
        .zip(text_iter(spells.column("discharge_method")?)?);
    let codes = rows.map(|((((discharged, group), awaited), source), method)| {
        if discharged != Some(true)
            || group == Some("died")
            || method.is_some_and(|m| DIED.contains(&m))
        {
            return None;
        }
        Some(match (awaited, group) {
            (Some("reablement" | "home_care"), _) => "P1",
            (Some("short_term_bed"), _) => "P2",
            (Some("care_home"), _) => "P3",
            (_, Some("care_home" | "la_care")) => {
                if source.is_some_and(|s| FROM_CARE_HOME.contains(&s)) {
                    "P3b"
                } else {
                    "P3"
                }
            }
            (_, Some("returned_home")) => "P0",
            _ => "other",
        })
    });
    // Made a categorical as it is built, like every other code (4 bytes a row; not text
    // first, which held a 16-byte view a row for every spell).
    Ok(Categorical32Chunked::from_str_iter(
        "discharge_pathway".into(),
        crate::normalise::categorical(),
        codes,
    )?
    .into_series()
    .into_column())
}

/// One row per hospital spell with its A&E attendance, social-care links, pathway and
/// readmission, in the order of `spells`. `care` must already be resolved
/// ([`super::social_care::resolve`]); all three frames carry [`PERSON`]
/// ([`super::person_index`]), and so does the result, in `person_id`'s place (restored
/// when written), with the spell's source as [`SOURCE`].
///
/// Links are found person by person ([`ByPerson`]), one kind at a time; the linked
/// values are gathered by row number, derived values computed row by row, and the
/// spells' own columns are shared with the result, not copied.
pub fn patient_journey(
    spells: &DataFrame,
    ed: &DataFrame,
    care: &DataFrame,
    link: &LinkPlan,
) -> PolarsResult<DataFrame> {
    let persons = spells.column(PERSON)?.u32()?.rechunk().into_owned();
    let gather = |frame: &DataFrame, idx: &Links, from: &str, to: &str| -> PolarsResult<Column> {
        Ok(frame.column(from)?.take(idx)?.with_name(to.into()))
    };
    let spell = |name: &str| -> PolarsResult<Column> { Ok(spells.column(name)?.clone()) };
    let stay = Stay::of(spells)?;
    let rows = || 0..spells.height() as IdxSize;
    // Derived columns are computed row by row into their final arrays: polars
    // expressions over the linked frame held every intermediate (casts, differences,
    // the branches of when/then) at once, ~150 MB at 2 M spells, the run's peak.
    let days_between = |name: &str, later: &Ints, earlier: &Ints| -> Column {
        Int64Chunked::from_iter_options(
            name.into(),
            rows().map(|i| Some(later.get(i)? - earlier.get(i)?)),
        )
        .into_column()
    };

    // The three kinds of link (A&E; social care; readmission) are independent: the
    // first and last on threads of their own while this one links social care (on two
    // cores the stage ran on one).
    let ed_part = || -> PolarsResult<(Column, Column, Column)> {
        let ed_idx = ed_links(spells, &persons, ed, link)?;
        let ed_attendance_id = gather(ed, &ed_idx, "attendance_id", "ed_attendance_id")?;
        let ed_arrival = gather(ed, &ed_idx, "arrival", "ed_arrival")?;
        let ed_duration_minutes = {
            let arrival = Ints::of(ed.column("arrival")?)?;
            let departure = Ints::of(ed.column("departure")?)?;
            let per_hour = per_hour(ed.column("arrival")?)?;
            // Time elapsed, over any clock change (`measure::uk_clock`); as polars'
            // `dt().total_minutes(false)`: whole minutes, truncated towards zero.
            Int64Chunked::from_iter_options(
                "ed_duration_minutes".into(),
                ed_idx.iter().map(|r| {
                    let r = r?;
                    let elapsed = crate::measure::uk_clock::elapsed(
                        arrival.get(r)?,
                        departure.get(r)?,
                        per_hour,
                    );
                    Some(elapsed / (per_hour / 60))
                }),
            )
            .into_column()
        };
        drop(ed_idx);
        Ok((ed_attendance_id, ed_arrival, ed_duration_minutes))
    };
    let readmission_part = || -> PolarsResult<(Column, BooleanChunked)> {
        // None after death or a transfer to another NHS provider, nor for a spell without
        // a person (no valid NHS number): its readmission cannot be seen.
        let mut ended = readmission_counts(spells)?;
        for (counts, p) in ended.iter_mut().zip(persons.iter()) {
            *counts &= p.is_some();
        }
        let readmission = readmission_links(spells, &stay, &persons, link)?;
        let readmission = links(
            "readmission",
            readmission
                .iter()
                .zip(&ended)
                .map(|(r, &counts)| r.filter(|_| counts)),
        );
        let readmission_spell_id =
            gather(spells, &readmission, "spell_id", "readmission_spell_id")?;
        // Null while in hospital, after death, and after a transfer to another NHS provider.
        let emergency_readmission_30d: BooleanChunked = readmission
            .iter()
            .zip(rows())
            .zip(ended)
            .map(|((r, i), counts)| {
                stay.discharged
                    .get(i)
                    .filter(|_| counts)
                    .map(|_| r.is_some())
            })
            .collect();
        drop(readmission);
        Ok((readmission_spell_id, emergency_readmission_30d))
    };
    let care_part = || -> PolarsResult<(Column, Column, Column, Column, Column, Column)> {
        let ends = window_ends(spells, &stay, &persons)?;
        let c = care_links(&stay, &ends, &persons, care, link)?;
        drop(ends);
        let care_request_date = gather(care, &c.request, "event_start", "care_request_date")?;
        let care_assessment_date =
            gather(care, &c.assessment, "event_start", "care_assessment_date")?;
        let care_service_start = gather(care, &c.service, "event_start", "care_service_start")?;
        // A linked service without a group is `other`; no linked service is null here and
        // `none` in the dataset.
        let service_groups = care
            .clone()
            .lazy()
            .select([col("service_group").fill_null(lit("other"))])
            .collect()?;
        let awaited = gather(
            &service_groups,
            &c.service,
            "service_group",
            "awaited_service",
        )?;
        drop(service_groups);
        // The service's council, else the request's.
        let la_known = care.column("la_code")?.is_not_null();
        let la_rows: IdxCa = c
            .service
            .iter()
            .zip(c.request.iter())
            .map(|(service, request)| match service {
                Some(s) if la_known.get(s as usize) == Some(true) => Some(s),
                _ => request,
            })
            .collect();
        let la_code = gather(care, &la_rows, "la_code", "la_code")?;
        drop((c, la_rows, la_known));
        let days_ready_to_service = days_between(
            "days_ready_to_service",
            &Ints::of(&care_service_start)?,
            &stay.ready,
        );
        Ok((
            care_request_date,
            care_assessment_date,
            care_service_start,
            awaited,
            la_code,
            days_ready_to_service,
        ))
    };
    let (ed_part, readmission_part, care_part) = std::thread::scope(|scope| {
        let ed_part = scope.spawn(ed_part);
        let readmission_part = scope.spawn(readmission_part);
        let care_part = care_part();
        (joined(ed_part), joined(readmission_part), care_part)
    });
    let (ed_attendance_id, ed_arrival, ed_duration_minutes) = ed_part?;
    let (readmission_spell_id, emergency_readmission_30d) = readmission_part?;
    let (
        care_request_date,
        care_assessment_date,
        care_service_start,
        awaited,
        la_code,
        days_ready_to_service,
    ) = care_part?;

    let discharge_pathway = pathways(spells, &awaited)?;
    let awaited_service = DataFrame::new(awaited.len(), vec![awaited])?
        .lazy()
        .select([col("awaited_service").fill_null(lit("none"))])
        .collect()?
        .column("awaited_service")?
        .clone();

    DataFrame::new(
        spells.height(),
        vec![
            spell("spell_id")?,
            spell(PERSON)?,
            spell("provider_code")?,
            spell("admission_date")?,
            spell("admission_datetime")?,
            spell("admission_type")?,
            spell("discharge_date")?,
            spell("discharge_destination")?,
            spell("discharge_ready_date")?,
            days_between("length_of_stay_days", &stay.discharged, &stay.admitted),
            days_between("delay_days", &stay.discharged, &stay.ready),
            ed_attendance_id,
            ed_arrival,
            ed_duration_minutes,
            care_request_date,
            care_assessment_date,
            care_service_start,
            awaited_service,
            la_code,
            days_ready_to_service,
            discharge_pathway,
            emergency_readmission_30d
                .with_name("emergency_readmission_30d".into())
                .into_column(),
            readmission_spell_id,
            spell("source")?.with_name(SOURCE.into()),
        ],
    )
}

#[cfg(test)]
#[path = "journey_tests.rs"]
mod tests;
