//! NHS England's CLD processing rules (reference/nhs-data.md §5.3), applied to
//! `social_care_event` before linkage.
//!
//! 1. **Person key.** A council person (`la_code`, `la_person_id`) with a valid NHS number
//!    on any row gets that pseudonym on all their rows (the national rule drops the
//!    LA-id-only rows of NHS-numbered people; keeping them under the NHS key loses
//!    nothing). People never recorded with an NHS number keep `person_id` null: they are
//!    counted by their council key but cannot link to NHS records. A council person
//!    recorded with two NHS numbers keeps each row's own, and their rows without one
//!    take the smaller pseudonym (which one depends on the key, not the data: such a
//!    record is a council data-quality problem the rule cannot settle). Events carry the
//!    person number [`PERSON`] in place of the pseudonym; numbers order as pseudonyms do,
//!    so the smallest number is the smallest pseudonym.
//! 2. **Event identity.** `Event Reference` is not reliable. An event is identified by
//!    council, person, client type, event type and start date, plus the route of access
//!    for requests and service type, component and delivery mechanism for services
//!    (assessments and reviews: the common columns only). Two rows are the same event
//!    when they agree so with the same council id (a corrected NHS number is the same
//!    event) or with the same person, their NHS key when they have one (rule 1), else
//!    their council id, as NHS England's `ID` (a person the council registered again
//!    under a new id is the same person).
//! 3. **Latest submission wins.** Of a council's files for the same reporting period,
//!    only the latest is read: a resubmission replaces the period, events it leaves out
//!    included. The latest is the last in [`submission_order`]: by name, the landing
//!    zone's `__<sha12>` and the extension left out, without case, digits as numbers
//!    (`cld_903_2026Q3-v2.csv`, `cld_903_2026Q3_resubmitted.csv` replace the original,
//!    `-v10` replaces `-v2`). A file holding several councils is replaced council by
//!    council; rows without a reporting period are never replaced. Across periods
//!    submissions append, and a later file can close an event an earlier one left open:
//!    files are ordered by reporting period end, then start, then name, and for each
//!    event the row of the latest submission is kept.
//! 4. **Request clustering.** A request starting at most four days after the end of the
//!    person's previous request to the same council by the same route of access (its
//!    start, when it has no end) is the same request: counted once, by the queue
//!    ([`without_clustered_requests`]). The events keep every request: a later one of a
//!    cluster can be the one a hospital spell links to.

use polars::prelude::*;

use super::person_index::PERSON;

/// The resolved events and what resolution did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Resolution {
    /// Events before resolution.
    pub events_in: u64,
    /// Events superseded by the same event in a later (or the same) submission.
    pub superseded: u64,
    /// Kept events that had no NHS number but got one from another row of the same person.
    pub person_key_backfilled: u64,
    /// Events left without an NHS-number key (cannot link to NHS records).
    pub without_nhs_key: u64,
    /// Files not read because a later file of the same council and reporting period
    /// replaced them (rule 3), by name; their events are among `superseded`.
    pub replaced_files: Vec<String>,
    /// Requests folded into an earlier request of the same person, council and route
    /// (rule 4).
    pub requests_clustered: u64,
    /// The latest reporting period end of the events kept: how far the social-care data
    /// cover, whatever events happen to fall in the last months (the report says where
    /// they end from this, not from its own last month of requests).
    pub reporting_period_end: Option<chrono::NaiveDate>,
}

/// The columns that identify an event (rule 2): the common ones, then the route of
/// access (requests only) and service type, component and delivery mechanism (services
/// only), each null where it does not apply. Compared as columns (category numbers,
/// days), not joined into one string: that cost ~40 % of resolution's time, most of it
/// formatting every date.
const IDENTITY: [&str; 10] = [
    "la_code",
    PERSON,
    "_la_id",
    "client_type",
    "event_type",
    "event_start",
    "_route",
    "_service_type",
    "_service_component",
    "_delivery_mechanism",
];

/// [`IDENTITY`] with the council person id in the person's place.
const IDENTITY_BY_COUNCIL_ID: [&str; 9] = [
    "la_code",
    "la_person_id",
    "client_type",
    "event_type",
    "event_start",
    "_route",
    "_service_type",
    "_service_component",
    "_delivery_mechanism",
];

/// The order in which a council's files for one period were submitted, by name: the
/// landing zone's `__<sha12>` suffix and the extension left out (`cld_903_2026Q3-v2`
/// after `cld_903_2026Q3`, pulled or not), letters compared without case and runs of
/// digits as numbers (`-v10` after `-v2`).
pub fn submission_order(a: &str, b: &str) -> std::cmp::Ordering {
    fn stem(name: &str) -> &str {
        let base = name.rsplit_once('.').map_or(name, |(s, _)| s);
        match base.rsplit_once("__") {
            Some((s, sha)) if sha.len() == 12 && sha.bytes().all(|c| c.is_ascii_hexdigit()) => s,
            _ => base,
        }
    }
    fn parts(s: &str) -> Vec<(u8, String)> {
        // (0, digits as a zero-padded number) or (1, lower-case text), in order.
        let mut out: Vec<(u8, String)> = Vec::new();
        for c in s.chars() {
            let digit = c.is_ascii_digit();
            match out.last_mut() {
                Some((0, run)) if digit => run.push(c),
                Some((1, run)) if !digit => run.extend(c.to_lowercase()),
                _ if digit => out.push((0, c.to_string())),
                _ => out.push((1, c.to_lowercase().collect())),
            }
        }
        for (kind, run) in &mut out {
            if *kind == 0 {
                let trimmed = run.trim_start_matches('0');
                *run = format!("{:0>40}", trimmed);
            }
        }
        out
    }
    parts(stem(a)).cmp(&parts(stem(b))).then_with(|| a.cmp(b))
}

/// The event-type-specific parts of [`IDENTITY`], and the council id of a person
/// without an NHS key (with one, the key alone is the person).
fn identity_parts() -> [Expr; 5] {
    let only = |event_type: &str, c: &str, alias: &str| {
        when(col("event_type").eq(lit(event_type)))
            .then(col(c))
            .otherwise(lit(NULL).cast(crate::normalise::categorical()))
            .alias(alias)
    };
    [
        when(col(PERSON).is_null())
            .then(col("la_person_id"))
            .otherwise(lit(NULL).cast(crate::normalise::categorical()))
            .alias("_la_id"),
        only("Request", "route_of_access", "_route"),
        only("Service", "service_type", "_service_type"),
        only("Service", "service_component", "_service_component"),
        only("Service", "delivery_mechanism", "_delivery_mechanism"),
    ]
}

/// The column holding each event's file's place in [`submission_order`] of the files'
/// own names ([`crate::normalise::normalise_source`]'s `submission`), when the caller
/// knows them: `source_file` shows a name with any NHS number withheld, so two files'
/// shown names can sort otherwise than the files (`…_2024-25_3` shown as
/// `…_<withheld>`), or be the same. Not kept in the resolved events.
pub const SUBMISSION: &str = "_submission";

/// Applies the CLD rules to a collected `social_care_event` frame (with [`PERSON`], and
/// [`SUBMISSION`] when the files' own names are known).
pub fn resolve(events: DataFrame) -> PolarsResult<(DataFrame, Resolution)> {
    let columns: Vec<PlSmallStr> = events
        .get_column_names()
        .into_iter()
        .filter(|n| n.as_str() != SUBMISSION)
        .cloned()
        .collect();
    let events_in = events.height() as u64;

    // Each file's place in submission order, for rule 3: given, else by its shown name (a
    // few files: ranked in Rust, mapped by polars).
    let by_file = events.column(SUBMISSION).is_ok();
    let rank = if by_file {
        col(SUBMISSION).cast(DataType::Int64).alias("_rank")
    } else {
        // Distinct names first: the order's comparison is costly, and there is a name a row.
        let distinct: std::collections::HashSet<&str> =
            super::by_person::text_iter(events.column("source_file")?)?
                .flatten()
                .collect();
        let mut files: Vec<&str> = distinct.into_iter().collect();
        files.sort_unstable_by(|a, b| submission_order(a, b));
        let ranks: Vec<i64> = (0..files.len() as i64).collect();
        col("source_file")
            .cast(DataType::String)
            .replace_strict(
                lit(Series::new("file".into(), files)),
                lit(Series::new("rank".into(), ranks)),
                Some(lit(NULL).cast(DataType::Int64)),
                Some(DataType::Int64),
            )
            .alias("_rank")
    };
    let latest_rank = col("_rank").max().over([
        col("la_code"),
        col("reporting_period_start"),
        col("reporting_period_end"),
    ])?;
    // Kept: the latest file of its council and period, and any row without a period (no
    // period to replace) or without a file name.
    let kept = col("_rank")
        .eq(latest_rank)
        .or(col("_rank").is_null())
        .or(col("reporting_period_start").is_null())
        .or(col("reporting_period_end").is_null());
    let replaced = events
        .clone()
        .lazy()
        .select(
            [
                col("la_code").cast(DataType::String),
                col("reporting_period_start"),
                col("reporting_period_end"),
                col("source_file").cast(DataType::String),
            ]
            .into_iter()
            .chain(by_file.then(|| col(SUBMISSION)))
            .collect::<Vec<_>>(),
        )
        .unique(None, UniqueKeepStrategy::First)
        .with_column(rank.clone())
        .filter(kept.clone().not())
        .sort(["source_file", "la_code"], Default::default())
        .collect()?;
    // Named with the council: a file of several councils is replaced only for those a
    // later file covers.
    let replaced_files: Vec<String> = replaced
        .column("source_file")?
        .str()?
        .iter()
        .zip(replaced.column("la_code")?.str()?.iter())
        .map(|(f, la)| {
            format!(
                "{} (council {})",
                f.unwrap_or_default(),
                la.unwrap_or("unknown")
            )
        })
        .collect();
    let keys = events
        .clone()
        .lazy()
        .filter(col(PERSON).is_not_null())
        .group_by([col("la_code"), col("la_person_id")])
        .agg([col(PERSON).min().alias("person_key")]);
    let order = SortMultipleOptions::default()
        .with_maintain_order(true)
        .with_nulls_last(false);
    let resolved = events
        .lazy()
        .join(
            keys,
            [col("la_code"), col("la_person_id")],
            [col("la_code"), col("la_person_id")],
            JoinArgs::new(JoinType::Left),
        )
        .with_column(
            col(PERSON)
                .is_null()
                .and(col("person_key").is_not_null())
                .alias("_backfilled"),
        )
        .with_column(col(PERSON).fill_null(col("person_key")))
        .with_columns(identity_parts())
        .with_column(rank)
        // Rule 3: a council's latest file for a period replaces the others for it.
        .filter(kept)
        .sort(
            ["reporting_period_end", "reporting_period_start", "_rank"],
            order,
        )
        // Rule 2, twice: by council id (a corrected NHS number is the same event), then by
        // person (a person registered again under a new council id is too).
        .unique_stable(Some(cols(IDENTITY_BY_COUNCIL_ID)), UniqueKeepStrategy::Last)
        .unique_stable(Some(cols(IDENTITY)), UniqueKeepStrategy::Last)
        .sort(
            ["la_code", "la_person_id", "event_start", "event_type"],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .collect()?;
    let person_key_backfilled = resolved.column("_backfilled")?.bool()?.sum().unwrap_or(0) as u64;
    let resolved = resolved.select(columns)?;
    let requests_clustered = clustered_requests(&resolved)?
        .iter()
        .filter(|&&c| c)
        .count() as u64;
    let without_nhs_key = resolved.column(PERSON)?.null_count() as u64;
    let superseded = events_in - resolved.height() as u64;
    let reporting_period_end = latest_day(resolved.column("reporting_period_end")?)?;
    Ok((
        resolved,
        Resolution {
            events_in,
            superseded,
            person_key_backfilled,
            without_nhs_key,
            replaced_files,
            requests_clustered,
            reporting_period_end,
        },
    ))
}

/// The latest date of a date column, when it has any.
fn latest_day(column: &Column) -> PolarsResult<Option<chrono::NaiveDate>> {
    /// Days from 0001-01-01 (chrono's day 1) to 1970-01-01.
    const UNIX_EPOCH_DAYS_FROM_CE: i32 = 719_163;
    let days = column
        .as_materialized_series()
        .to_physical_repr()
        .cast(&DataType::Int32)?
        .i32()?
        .max();
    Ok(
        days.and_then(|d| {
            chrono::NaiveDate::from_num_days_from_ce_opt(d + UNIX_EPOCH_DAYS_FROM_CE)
        }),
    )
}

/// Days between one request's end (else its start) and the next one's start within
/// which the two are one request (NHS England's request clustering).
const CLUSTER_GAP_DAYS: i32 = 4;

/// Rule 4, request clustering, for counting requests: of a person's requests to one
/// council by one route of access (and client type), one starting at most
/// [`CLUSTER_GAP_DAYS`] after the end of the one before (its start, when it has no end)
/// belongs to the same request. True for each request that is not its cluster's first.
/// The events keep every request (a later one of a cluster can be the one a spell links
/// to); `social_care_queue` counts clusters ([`without_clustered_requests`]).
pub fn clustered_requests(resolved: &DataFrame) -> PolarsResult<Vec<bool>> {
    Ok(clusters(resolved)?.0)
}

/// [`clustered_requests`], and for each row the row whose end and outcome are its
/// cluster's: a cluster's first request ends as its last request ends (a person who asked
/// again after a request closed is still waiting), every other row its own.
fn clusters(resolved: &DataFrame) -> PolarsResult<(Vec<bool>, Vec<IdxSize>)> {
    // Each value as a number to compare: a category's number, a date's day, and text
    // numbered as it is first met (a text column cast to a number would be all null).
    let physical = |c: &str| -> PolarsResult<Vec<Option<i64>>> {
        let column = resolved.column(c)?;
        if column.dtype() == &DataType::String {
            let mut ids: std::collections::HashMap<&str, i64, foldhash::fast::FixedState> =
                Default::default();
            return Ok(column
                .str()?
                .iter()
                .map(|v| {
                    v.map(|v| {
                        let next = ids.len() as i64;
                        *ids.entry(v).or_insert(next)
                    })
                })
                .collect());
        }
        let s = column
            .as_materialized_series()
            .to_physical_repr()
            .cast(&DataType::Int64)?;
        Ok(s.i64()?.iter().collect())
    };
    let is_request: Vec<bool> = resolved
        .column("event_type")?
        .as_materialized_series()
        .cast(&DataType::String)?
        .str()?
        .iter()
        .map(|t| t == Some("Request"))
        .collect();
    let mut keys: Vec<Vec<Option<i64>>> = [
        "la_code",
        PERSON,
        "la_person_id",
        "client_type",
        "route_of_access",
    ]
    .iter()
    .map(|c| physical(c))
    .collect::<PolarsResult<_>>()?;
    // The person: their NHS key, else their council id.
    let (person, la_id) = keys.split_at_mut(2);
    for (p, la) in person[1].iter().zip(la_id[0].iter_mut()) {
        if p.is_some() {
            *la = None;
        }
    }
    let (start, end) = (physical("event_start")?, physical("event_end")?);
    let key = |i: usize| -> [Option<i64>; 5] { std::array::from_fn(|k| keys[k][i]) };
    // Requests in key order, then by start (rows that tie keep their order).
    let mut rows: Vec<usize> = (0..resolved.height())
        .filter(|&i| is_request[i] && start[i].is_some())
        .collect();
    rows.sort_by_key(|&i| (key(i), start[i]));
    let mut clustered = vec![false; resolved.height()];
    let mut closing: Vec<IdxSize> = (0..resolved.height() as IdxSize).collect();
    // The cluster's key, how far it reaches, and its first row.
    let mut cluster: Option<([Option<i64>; 5], i64, usize)> = None;
    for i in rows {
        let (k, s) = (key(i), start[i].unwrap_or_default());
        let e = end[i].unwrap_or(s).max(s);
        match &mut cluster {
            Some((ck, cluster_end, first))
                if *ck == k && s <= *cluster_end + i64::from(CLUSTER_GAP_DAYS) =>
            {
                clustered[i] = true;
                *cluster_end = (*cluster_end).max(e);
                // Rows come by start: the latest request so far closes the cluster.
                closing[*first] = i as IdxSize;
            }
            _ => cluster = Some((k, e, i)),
        }
    }
    Ok((clustered, closing))
}

/// The columns a cluster's first request takes from the cluster's last
/// ([`without_clustered_requests`]).
const CLOSING_COLUMNS: [&str; 3] = ["event_end", "event_outcome", "event_outcome_group"];

/// `resolved` without the requests [`clustered_requests`] folds into an earlier one, each
/// cluster's first request ending (`event_end`) with the outcome (`event_outcome`,
/// `event_outcome_group`, those of them present) of the cluster's last: what counting
/// requests reads. (A request closed "NFA" and asked again two days later is one request,
/// still open.)
pub fn without_clustered_requests(resolved: &DataFrame) -> PolarsResult<DataFrame> {
    let (clustered, closing) = clusters(resolved)?;
    if !clustered.contains(&true) {
        return Ok(resolved.clone());
    }
    let mut closed = resolved.clone();
    let closing = IdxCa::from_vec("closing".into(), closing);
    for name in CLOSING_COLUMNS {
        if let Ok(column) = resolved.column(name) {
            let taken = column.take(&closing)?;
            closed.replace(name, taken)?;
        }
    }
    let keep: Vec<bool> = clustered.iter().map(|c| !c).collect();
    closed.filter(&BooleanChunked::from_slice("keep".into(), &keep))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A date column's days since 1970.
    fn days_of(df: &DataFrame, column: &str) -> Vec<Option<i32>> {
        df.column(column)
            .unwrap()
            .cast(&DataType::Int32)
            .unwrap()
            .i32()
            .unwrap()
            .iter()
            .collect()
    }

    /// Events of one council person; each row is (event type, route of access, service
    /// type, reporting period end day, source file).
    type Row<'a> = (&'a str, &'a str, &'a str, i32, &'a str);

    fn events(rows: &[Row<'_>]) -> DataFrame {
        let n = rows.len();
        let text = |f: fn(&Row<'_>) -> String| -> Vec<Option<String>> {
            rows.iter()
                .map(|r| Some(f(r)).filter(|v| !v.is_empty()))
                .collect()
        };
        df!(
            "la_code" => vec!["E06000001"; n],
            "la_person_id" => vec!["LAHASH"; n],
            PERSON => vec![Some(7u32); n],
            "client_type" => vec!["Service User"; n],
            "event_type" => text(|r| r.0.to_string()),
            "event_start" => vec![20_000i32; n],
            "event_end" => vec![None::<i32>; n],
            "route_of_access" => text(|r| r.1.to_string()),
            "service_type" => text(|r| r.2.to_string()),
            "service_component" => vec![None::<String>; n],
            "delivery_mechanism" => vec![None::<String>; n],
            "reporting_period_end" => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
            "reporting_period_start" => rows.iter().map(|r| r.3 - 30).collect::<Vec<_>>(),
            "source_file" => rows.iter().map(|r| r.4).collect::<Vec<_>>(),
        )
        .unwrap()
        .lazy()
        .with_columns(
            [
                "la_code",
                "client_type",
                "event_type",
                "route_of_access",
                "service_type",
                "service_component",
                "delivery_mechanism",
            ]
            .map(|c| col(c).cast(crate::normalise::categorical())),
        )
        .with_columns(
            [
                "event_start",
                "reporting_period_end",
                "reporting_period_start",
            ]
            .map(|c| col(c).cast(DataType::Date)),
        )
        .with_column(col("event_end").cast(DataType::Date))
        .collect()
        .unwrap()
    }

    fn kept_files(df: &DataFrame) -> Vec<String> {
        df.column("source_file")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|f| f.unwrap_or_default().to_string())
            .collect()
    }

    #[test]
    fn the_route_of_access_tells_requests_apart_but_not_services() {
        let (out, r) = resolve(events(&[
            ("Request", "Discharge from hospital", "", 100, "a.csv"),
            ("Request", "Community", "", 100, "a.csv"),
            (
                "Service",
                "Discharge from hospital",
                "Long Term Support",
                100,
                "a.csv",
            ),
            ("Service", "Community", "Long Term Support", 130, "b.csv"),
        ]))
        .unwrap();
        assert_eq!(kept_files(&out), ["a.csv", "a.csv", "b.csv"]);
        assert_eq!((r.events_in, r.superseded), (4, 1));
    }

    #[test]
    fn the_service_type_tells_services_apart_but_not_assessments() {
        let (out, r) = resolve(events(&[
            ("Service", "", "Long Term Support", 100, "a.csv"),
            ("Service", "", "Short Term Support", 100, "a.csv"),
            ("Assessment", "", "Long Term Support", 130, "b.csv"),
            ("Assessment", "", "Short Term Support", 100, "a.csv"),
        ]))
        .unwrap();
        assert_eq!(out.height(), 3);
        assert_eq!(r.superseded, 1);
        let assessment = out
            .clone()
            .lazy()
            .filter(col("event_type").eq(lit("Assessment")))
            .collect()
            .unwrap();
        assert_eq!(
            kept_files(&assessment),
            ["b.csv"],
            "the later submission wins"
        );
    }

    /// Regression (analytics review): a council's resubmission for the same reporting
    /// period left out a request, which survived from the original (events were merged
    /// across files); and `…-v2.csv` sorted before `….csv`, so the original won. Now the
    /// latest file of a council and period replaces the others, by name without its
    /// extension.
    #[test]
    fn regression_a_resubmission_replaces_its_period_events_left_out_included() {
        let (out, r) = resolve(events(&[
            (
                "Request",
                "Discharge from hospital",
                "",
                100,
                "cld_903_2026Q3.csv",
            ),
            (
                "Service",
                "",
                "Long Term Support",
                100,
                "cld_903_2026Q3.csv",
            ),
            (
                "Service",
                "",
                "Long Term Support",
                100,
                "cld_903_2026Q3-v2.csv",
            ),
        ]))
        .unwrap();
        assert_eq!(kept_files(&out), ["cld_903_2026Q3-v2.csv"]);
        assert_eq!(r.superseded, 2);
        assert_eq!(r.replaced_files, ["cld_903_2026Q3.csv (council E06000001)"]);
    }

    /// Regression (report review): with few people, the report said "social-care data
    /// end in September 2025" (its last month of requests) of CLD files running to March
    /// 2026. Resolution records the latest reporting period end, which says how far the
    /// files cover whatever events fall in them.
    #[test]
    fn regression_the_social_care_data_end_with_their_latest_reporting_period() {
        let (_, r) = resolve(events(&[
            (
                "Request",
                "Discharge from hospital",
                "",
                100,
                "cld_903_2026Q1.csv",
            ),
            ("Assessment", "", "", 190, "cld_903_2026Q2.csv"),
        ]))
        .unwrap();
        // Day 190 after 1 January 1970.
        assert_eq!(
            r.reporting_period_end,
            chrono::NaiveDate::from_ymd_opt(1970, 7, 10)
        );
    }

    /// Regression (analytics review): events were identified by council person id, so a
    /// person the council registered again under a new id (one NHS number) had one
    /// request twice. With an NHS key the key is the person (NHS England's `ID`).
    #[test]
    fn regression_an_event_of_a_person_under_two_council_ids_is_one_event() {
        let mut df = events(&[
            ("Request", "Discharge from hospital", "", 100, "a.csv"),
            ("Request", "Discharge from hospital", "", 130, "b.csv"),
        ]);
        df.replace(
            "la_person_id",
            Column::new("la_person_id".into(), ["EA900003", "EA900103"]),
        )
        .unwrap();
        let (out, r) = resolve(df.clone()).unwrap();
        assert_eq!(kept_files(&out), ["b.csv"]);
        assert_eq!(r.superseded, 1);
        // Without an NHS key the council id is the person: two people.
        df.replace(
            "_person",
            Column::new("_person".into(), [None::<u32>, None]),
        )
        .unwrap();
        let (out, _) = resolve(df).unwrap();
        assert_eq!(out.height(), 2);
    }

    /// Regression (analytics review): two discharge requests of one person, the second
    /// starting three days after the first ended, were two requests; NHS England's rule
    /// makes them one cluster (gap of four days or fewer). A request by another route
    /// stays apart, and one starting five days after stays a request of its own.
    #[test]
    fn regression_requests_within_four_days_of_the_last_are_one_request() {
        let mut df = events(&[
            ("Request", "Discharge from hospital", "", 100, "a.csv"),
            ("Request", "Discharge from hospital", "", 100, "a.csv"),
            ("Request", "Community", "", 100, "a.csv"),
            ("Request", "Discharge from hospital", "", 100, "a.csv"),
        ]);
        // Starts 1 Aug (ended 2 Aug), 5 Aug, 6 Aug (community), 14 Aug (no end).
        let day = |d: i32| 20_666 + d; // 20_667 is 2026-08-01
        let starts = [day(1), day(5), day(6), day(14)];
        let ends = [Some(day(2)), Some(day(9)), None, None];
        df.replace(
            "event_start",
            Column::new("event_start".into(), starts)
                .cast(&DataType::Date)
                .unwrap(),
        )
        .unwrap();
        df.replace(
            "event_end",
            Column::new("event_end".into(), ends)
                .cast(&DataType::Date)
                .unwrap(),
        )
        .unwrap();
        let (out, r) = resolve(df).unwrap();
        // Regression (review): clustering dropped the later requests from the events,
        // and a spell admitted between them lost the request it links to. The events keep
        // every request; counting reads them without the clustered ones.
        assert_eq!(out.height(), 4);
        let counted = without_clustered_requests(&out).unwrap();
        let kept = days_of(&counted, "event_start");
        // 5 Aug joins 1 Aug's cluster (extending it to 9 Aug); 14 Aug is 5 days after.
        assert_eq!(kept, [Some(day(1)), Some(day(6)), Some(day(14))]);
        assert_eq!((r.requests_clustered, r.superseded), (1, 0));
    }

    /// Regression (review): a request closed "NFA - Support declined" and asked again two
    /// days later (one request by rule 4) was counted by the first's outcome and end, so
    /// the person, still waiting, was counted as closed. The cluster's first request now
    /// ends as its last does.
    #[test]
    fn regression_a_cluster_ends_as_its_last_request_ends() {
        let n = 3;
        let date = |name: &str, v: Vec<Option<i32>>| {
            Column::new(name.into(), v).cast(&DataType::Date).unwrap()
        };
        let df = df!(
            "la_code" => vec!["E06000001"; n],
            PERSON => vec![Some(7u32), Some(7), Some(8)],
            "la_person_id" => vec!["A", "A", "B"],
            "client_type" => vec!["Service User"; n],
            "event_type" => vec!["Request"; n],
            "route_of_access" => vec!["Discharge from Hospital"; n],
            "event_outcome" => vec![Some("NFA - Support declined"), None, Some("NFA - Other")],
            "event_outcome_group" => vec![Some("no_further_action"), None, Some("no_further_action")],
        )
        .unwrap()
        .hstack(&[
            date("event_start", vec![Some(20_000), Some(20_004), Some(20_000)]),
            date("event_end", vec![Some(20_002), None, Some(20_002)]),
        ])
        .unwrap();
        let counted = without_clustered_requests(&df).unwrap();
        assert_eq!(counted.height(), 2, "{counted}");
        let text = |c: &str| -> Vec<Option<String>> {
            counted
                .column(c)
                .unwrap()
                .str()
                .unwrap()
                .iter()
                .map(|v| v.map(str::to_string))
                .collect()
        };
        // Person 7's cluster (days 0 and 4, the first ending on day 2) is open,
        // with no outcome; person 8's lone request keeps its own.
        assert_eq!(
            text("event_outcome_group"),
            [None, Some("no_further_action".into())]
        );
        assert_eq!(text("event_outcome"), [None, Some("NFA - Other".into())]);
        let ends = days_of(&counted, "event_end");
        assert_eq!(ends, [None, Some(20_002)]);
        let starts = days_of(&counted, "event_start");
        assert_eq!(starts, [Some(20_000), Some(20_000)]);
    }

    /// Regressions (review of rule 3): pulled files are named `<stem>__<sha12>.csv`, and
    /// `-` sorts before `_`, so the original outranked its `-v2`; `-v10` lost to `-v2`.
    #[test]
    fn regression_submission_order_reads_names_as_people_write_them() {
        use std::cmp::Ordering::Less;
        for (earlier, later) in [
            ("cld_903_2026Q3.csv", "cld_903_2026Q3-v2.csv"),
            (
                "cld_903_2026Q3__35e1aa00bb11.csv",
                "cld_903_2026Q3-v2__c900ffee0011.csv",
            ),
            ("cld_903_2026Q3-v2.csv", "cld_903_2026Q3-v10.csv"),
            ("CLD_903_2026Q3.csv", "cld_903_2026Q3_resubmitted.csv"),
        ] {
            assert_eq!(
                submission_order(earlier, later),
                Less,
                "{earlier} < {later}"
            );
        }
    }

    /// Regressions (review of rule 3): files without a reporting period were all one
    /// "period", so one council's were all dropped but one; a file of two councils was
    /// said to be "not read" when a later file replaced only one council's rows.
    #[test]
    fn regression_rows_without_a_period_are_kept_and_a_shared_file_is_replaced_per_council() {
        let mut df = events(&[
            ("Service", "", "Long Term Support", 100, "q2.csv"),
            ("Service", "", "Short Term Support", 100, "q3.csv"),
        ]);
        df.replace(
            "reporting_period_end",
            Column::new("reporting_period_end".into(), [None::<i32>, None])
                .cast(&DataType::Date)
                .unwrap(),
        )
        .unwrap();
        let (out, r) = resolve(df).unwrap();
        assert_eq!(out.height(), 2);
        assert!(r.replaced_files.is_empty(), "{:?}", r.replaced_files);

        let mut df = events(&[
            ("Service", "", "Long Term Support", 100, "cld_all.csv"),
            ("Service", "", "Short Term Support", 100, "cld_all.csv"),
            ("Service", "", "Short Term Support", 100, "cld_all_v2.csv"),
        ]);
        df.replace(
            "la_code",
            Column::new("la_code".into(), ["901", "902", "902"])
                .cast(&crate::normalise::categorical())
                .unwrap(),
        )
        .unwrap();
        let (out, r) = resolve(df).unwrap();
        assert_eq!(kept_files(&out), ["cld_all.csv", "cld_all_v2.csv"]);
        assert_eq!(r.replaced_files, ["cld_all.csv (council 902)"]);
    }

    /// Regression (review of rule 2): with the person's NHS key as the event's person, a
    /// council correcting a person's NHS number in a later submission left the event
    /// twice (under the old number and the new). An event is the same by council id or
    /// by person.
    #[test]
    fn regression_a_corrected_nhs_number_does_not_duplicate_the_event() {
        let mut df = events(&[
            ("Request", "Discharge from hospital", "", 100, "q3.csv"),
            ("Request", "Discharge from hospital", "", 130, "q4.csv"),
        ]);
        df.replace(
            "_person",
            Column::new("_person".into(), [Some(7u32), Some(8)]),
        )
        .unwrap();
        let (out, r) = resolve(df).unwrap();
        assert_eq!(kept_files(&out), ["q4.csv"]);
        assert_eq!(r.superseded, 1);
    }
}
