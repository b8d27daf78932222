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

use std::collections::HashMap;

use polars::prelude::*;

use super::codes::{Codes, Dense, Packer, Values, codes, codes_of, sort_keys};
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

/// The column holding each event's file's place in [`submission_order`] of the files'
/// own names ([`crate::normalise::normalise_source`]'s `submission`), when the caller
/// knows them: `source_file` shows a name with any NHS number withheld, so two files'
/// shown names can sort otherwise than the files (`…_2024-25_3` shown as
/// `…_<withheld>`), or be the same. Not kept in the resolved events.
pub const SUBMISSION: &str = "_submission";

/// Applies the CLD rules to a collected `social_care_event` frame (with [`PERSON`], and
/// [`SUBMISSION`] when the files' own names are known).
///
/// The rules group, deduplicate and order the events by keys packed from column codes
/// ([`super::codes`]), one sort of row numbers each; the kept rows are then gathered
/// column by column, each source column dropped as soon as it is gathered, so the events
/// are never held twice. (Polars' joins, sorts and `unique`s copied them several times:
/// the run's peak memory at 2.8 M CLD rows.)
pub fn resolve(mut events: DataFrame) -> PolarsResult<(DataFrame, Resolution)> {
    let columns = resolved_columns(&events);
    let n = events.height();
    let events_in = n as u64;
    // Every column a rule reads, as codes, each column on its own core.
    let submission = events.drop_in_place(SUBMISSION).ok();
    let mut read = vec![
        "la_code",
        "reporting_period_start",
        "reporting_period_end",
        "la_person_id",
        "event_type",
        "client_type",
        "route_of_access",
        "service_type",
        "service_component",
        "delivery_mechanism",
        "event_start",
    ];
    if submission.is_none() {
        read.push("source_file");
    }
    let mut coded = codes_of(&events, &read)?.into_iter();
    let mut next = || {
        coded
            .next()
            .ok_or_else(|| polars_err!(ComputeError: "a column's codes are missing"))
    };
    let (la, start_of_period, end_of_period, la_id, event_type) =
        (next()?, next()?, next()?, next()?, next()?);
    let identity_columns = [next()?, next()?, next()?, next()?, next()?];
    let start = next()?;

    // Rule 3: each row's file's place in submission order (0: not known), and whether it
    // is the latest of its council and period.
    let mut source_file: Option<Codes> = None;
    let rank: Vec<u32> = match &submission {
        Some(submission) => codes(submission)?.codes,
        None => {
            let files = next()?;
            let ranks = submission_ranks(&files);
            let rank = files.codes.iter().map(|&c| ranks[c as usize]).collect();
            source_file = Some(files);
            rank
        }
    };
    drop(submission);
    let period = |i: usize| {
        (
            la.codes[i],
            start_of_period.codes[i],
            end_of_period.codes[i],
        )
    };
    let mut latest: HashMap<(u32, u32, u32), u32, foldhash::fast::FixedState> = HashMap::default();
    for (i, &r) in rank.iter().enumerate() {
        let l = latest.entry(period(i)).or_insert(r);
        *l = (*l).max(r);
    }
    // Kept: the latest file of its council and period, and any row without a period (no
    // period to replace) or without a file.
    let kept: Vec<bool> = (0..n)
        .map(|i| {
            let (_, s, e) = period(i);
            rank[i] == 0 || s == 0 || e == 0 || rank[i] == latest[&period(i)]
        })
        .collect();
    drop(latest);
    let replaced_files = if kept.contains(&false) {
        let files = match source_file.take() {
            Some(files) => files,
            None => codes(events.column("source_file")?)?,
        };
        replaced_files(&files, &la, &kept)
    } else {
        Vec::new()
    };
    drop(source_file);

    // The kept rows in submission order: by reporting period end, then start, then file
    // (nulls first), rows that tie in their order. A row's place in it is its position
    // (`pos` below).
    let packer = Packer::new(&[
        end_of_period.count(),
        start_of_period.count(),
        rank.iter().max().map_or(1, |&m| u64::from(m) + 1),
        n as u64,
    ])?;
    let mut keys: Vec<u128> = (0..n)
        .filter(|&i| kept[i])
        .map(|i| {
            packer.pack(&[
                end_of_period.codes[i].into(),
                start_of_period.codes[i].into(),
                rank[i].into(),
                i as u64,
            ])
        })
        .collect();
    drop((kept, rank, start_of_period, end_of_period));
    sort_keys(&mut keys);
    let by_submission: Vec<IdxSize> = keys.iter().map(|&k| packer.last(k) as IdxSize).collect();
    drop(keys);

    // Rule 1: a council person's smallest person number, on every row of theirs.
    let person: Vec<Option<u32>> = events.column(PERSON)?.u32()?.iter().collect();
    let mut key_of: HashMap<(u32, u32), u32, foldhash::fast::FixedState> = HashMap::default();
    for (i, p) in person.iter().enumerate() {
        if let (Some(p), l, id) = (*p, la.codes[i], la_id.codes[i])
            && l != 0
            && id != 0
        {
            let k = key_of.entry((l, id)).or_insert(p);
            *k = (*k).min(p);
        }
    }
    let filled: Vec<Option<u32>> = person
        .iter()
        .enumerate()
        .map(|(i, p)| p.or_else(|| key_of.get(&(la.codes[i], la_id.codes[i])).copied()))
        .collect();
    drop(key_of);

    // Rule 2: the identity of an event but its person and start, as one dense number:
    // council, client type, event type, then the route of access of a request and the
    // service type, component and delivery mechanism of a service (null otherwise).
    let (request, service) = (event_type.code_of("Request"), event_type.code_of("Service"));
    let [client, route, service_type, component, mechanism] = &identity_columns;
    let mut dense = Dense::new();
    let identity: Vec<u32> = (0..n)
        .map(|i| {
            let t = event_type.codes[i];
            let only = |of: u32, c: &Codes| if t == of && of != 0 { c.codes[i] } else { 0 };
            dense.id([
                la.codes[i],
                client.codes[i],
                t,
                only(request, route),
                only(service, service_type),
                only(service, component),
                only(service, mechanism),
            ])
        })
        .collect();
    let identities = dense.count().max(1);
    drop((dense, identity_columns));
    // Twice, keeping the latest submission's row of each event: by council id (a
    // corrected NHS number is the same event), then by person, their NHS key when they
    // have one, else their council id (a person registered again under a new council id
    // is the same person).
    let by_council_id = latest_of_each(
        by_submission.len(),
        &[identities, la_id.count(), start.count()],
        |pos| {
            let i = by_submission[pos as usize] as usize;
            [
                identity[i].into(),
                la_id.codes[i].into(),
                start.codes[i].into(),
            ]
        },
        (0..by_submission.len() as u32).collect(),
    )?;
    let persons = filled
        .iter()
        .flatten()
        .max()
        .map_or(0, |&m| u64::from(m) + 1);
    let by_person = latest_of_each(
        by_submission.len(),
        &[identities, persons + la_id.count(), start.count()],
        |pos| {
            let i = by_submission[pos as usize] as usize;
            let who = match filled[i] {
                Some(p) => u64::from(p),
                None => persons + u64::from(la_id.codes[i]),
            };
            [identity[i].into(), who, start.codes[i].into()]
        },
        by_council_id,
    )?;
    drop(identity);

    // Ordered by council, council id, start and event type (nulls first; text by its
    // bytes, as polars sorts), events that tie in submission order.
    let packer = Packer::new(&[
        la.count(),
        la_id.count(),
        start.count(),
        event_type.count(),
        by_submission.len() as u64,
    ])?;
    let mut keys: Vec<u128> = by_person
        .iter()
        .map(|&pos| {
            let i = by_submission[pos as usize] as usize;
            packer.pack(&[
                la.codes[i].into(),
                la_id.codes[i].into(),
                start.codes[i].into(),
                event_type.codes[i].into(),
                pos.into(),
            ])
        })
        .collect();
    drop((by_person, la, la_id, start, event_type));
    sort_keys(&mut keys);
    let order: Vec<IdxSize> = keys
        .iter()
        .map(|&k| by_submission[packer.last(k) as usize])
        .collect();
    drop((keys, by_submission));

    let person_key_backfilled = order
        .iter()
        .filter(|&&i| person[i as usize].is_none() && filled[i as usize].is_some())
        .count() as u64;
    let person_column =
        UInt32Chunked::from_iter_options(PERSON.into(), order.iter().map(|&i| filled[i as usize]));
    drop((person, filled));
    // Gathered column by column, each dropped once gathered.
    let order = IdxCa::from_vec("order".into(), order);
    let mut gathered: Vec<Column> = Vec::with_capacity(columns.len());
    for name in &columns {
        let column = events.drop_in_place(name)?;
        gathered.push(if name.as_str() == PERSON {
            person_column.clone().into_column()
        } else {
            column.take(&order)?
        });
    }
    drop(events);
    let resolved = DataFrame::new(order.len(), gathered)?;
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

/// The columns of the resolved events: the events' own, [`SUBMISSION`] left out.
fn resolved_columns(events: &DataFrame) -> Vec<PlSmallStr> {
    events
        .get_column_names()
        .into_iter()
        .filter(|n| n.as_str() != SUBMISSION)
        .cloned()
        .collect()
}

/// Each file name's place in [`submission_order`], by the name's code (code 0, no name:
/// place 0, not known).
fn submission_ranks(files: &Codes) -> Vec<u32> {
    let Values::Text(names) = &files.values else {
        return vec![0; files.count() as usize];
    };
    let mut by_order: Vec<usize> = (0..names.len()).collect();
    by_order.sort_by(|&a, &b| submission_order(&names[a], &names[b]));
    let mut ranks = vec![0u32; names.len() + 1];
    for (place, &c) in by_order.iter().enumerate() {
        ranks[c + 1] = place as u32 + 1;
    }
    ranks
}

/// The files (with their council) rule 3 left out, by name then council: a file of
/// several councils is replaced only for those a later file covers.
fn replaced_files(files: &Codes, la: &Codes, kept: &[bool]) -> Vec<String> {
    let pairs: std::collections::BTreeSet<(u32, u32)> = kept
        .iter()
        .enumerate()
        .filter(|(_, k)| !**k)
        .map(|(i, _)| (files.codes[i], la.codes[i]))
        .collect();
    let text = |codes: &Codes, c: u32| match &codes.values {
        Values::Text(v) if c > 0 => Some(v[c as usize - 1].clone()),
        _ => None,
    };
    pairs
        .into_iter()
        .map(|(f, l)| {
            format!(
                "{} (council {})",
                text(files, f).unwrap_or_default(),
                text(la, l).as_deref().unwrap_or("unknown")
            )
        })
        .collect()
}

/// Of `positions` (places `0..places` in submission order), the last of each group of
/// equal `key`s, in submission order.
fn latest_of_each(
    places: usize,
    counts: &[u64; 3],
    key: impl Fn(u32) -> [u64; 3],
    positions: Vec<u32>,
) -> PolarsResult<Vec<u32>> {
    let packer = Packer::new(&[counts[0], counts[1], counts[2], places as u64])?;
    let mut keys: Vec<u128> = positions
        .into_iter()
        .map(|pos| {
            let [a, b, c] = key(pos);
            packer.pack(&[a, b, c, pos.into()])
        })
        .collect();
    sort_keys(&mut keys);
    let group = packer.low_bits(1);
    let mut latest: Vec<u32> = keys
        .iter()
        .enumerate()
        .filter(|(k, key)| {
            keys.get(k + 1)
                .is_none_or(|next| next >> group != *key >> group)
        })
        .map(|(_, &key)| packer.last(key) as u32)
        .collect();
    latest.sort_unstable();
    Ok(latest)
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
    let n = resolved.height();
    let [event_type, start, end, la, client, route, la_id]: [Codes; 7] = codes_of(
        resolved,
        &[
            "event_type",
            "event_start",
            "event_end",
            "la_code",
            "client_type",
            "route_of_access",
            "la_person_id",
        ],
    )?
    .try_into()
    .map_err(|_| polars_err!(ComputeError: "a column's codes are missing"))?;
    let request = event_type.code_of("Request");
    // The requests, each with its cluster's council, client type and route of access (as
    // one dense number) and its person: their NHS key, else their council id.
    let requests: Vec<usize> = (0..n)
        .filter(|&i| request != 0 && event_type.codes[i] == request && start.codes[i] != 0)
        .collect();
    drop(event_type);
    let mut dense = Dense::new();
    let kinds: Vec<u32> = requests
        .iter()
        .map(|&i| dense.id((la.codes[i], client.codes[i], route.codes[i])))
        .collect();
    drop((la, client, route));
    let person = resolved.column(PERSON)?.u32()?.rechunk();
    let persons = person.max().map_or(0, |m| u64::from(m) + 1);
    let who = |i: usize| match person.get(i) {
        Some(p) => u64::from(p),
        None => persons + u64::from(la_id.codes[i]),
    };
    // Requests by cluster kind, person and start; rows that tie in their order.
    let packer = Packer::new(&[
        dense.count(),
        persons + la_id.count(),
        start.count(),
        n as u64,
    ])?;
    let mut keys: Vec<u128> = requests
        .iter()
        .zip(&kinds)
        .map(|(&i, &k)| packer.pack(&[k.into(), who(i), start.codes[i].into(), i as u64]))
        .collect();
    drop((requests, kinds));
    sort_keys(&mut keys);
    let mut clustered = vec![false; n];
    let mut closing: Vec<IdxSize> = (0..n as IdxSize).collect();
    // The cluster's kind and person, how far it reaches, and its first row.
    let same = packer.low_bits(2);
    let mut cluster: Option<(u128, i64, usize)> = None;
    for key in keys {
        let i = packer.last(key) as usize;
        let s = start.number(i).unwrap_or_default();
        let e = end.number(i).unwrap_or(s).max(s);
        match &mut cluster {
            Some((kind, cluster_end, first))
                if *kind == key >> same && s <= *cluster_end + i64::from(CLUSTER_GAP_DAYS) =>
            {
                clustered[i] = true;
                *cluster_end = (*cluster_end).max(e);
                // Rows come by start: the latest request so far closes the cluster.
                closing[*first] = i as IdxSize;
            }
            _ => cluster = Some((key >> same, e, i)),
        }
    }
    Ok((clustered, closing))
}

/// The columns [`without_clustered_requests`] reads (with [`CLOSING_COLUMNS`], those
/// present).
pub const CLUSTER_READS: [&str; 8] = [
    "la_code",
    PERSON,
    "la_person_id",
    "client_type",
    "event_type",
    "route_of_access",
    "event_start",
    "event_end",
];

/// The columns a cluster's first request takes from the cluster's last
/// ([`without_clustered_requests`]).
pub const CLOSING_COLUMNS: [&str; 3] = ["event_end", "event_outcome", "event_outcome_group"];

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

    /// A text or categorical column's values as text.
    pub(super) fn texts_of(df: &DataFrame, column: &str) -> Vec<Option<String>> {
        crate::test_support::texts(df.column(column).unwrap())
    }

    /// A date column's days since 1970.
    pub(super) fn days_of(df: &DataFrame, column: &str) -> Vec<Option<i32>> {
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

    /// No events (a pipeline without social-care sources): nothing resolved, the
    /// columns and their types kept.
    #[test]
    fn no_events_resolve_to_no_events() {
        let all = events(&[("Request", "Community", "", 100, "a.csv")]);
        let (out, r) = resolve(all.head(Some(0))).unwrap();
        assert_eq!(out.height(), 0);
        assert_eq!(out.schema(), all.schema());
        assert_eq!(r, Resolution::default());
        assert_eq!(without_clustered_requests(&out).unwrap().height(), 0);
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

    /// Regression (found by the reference test of this session's rewrite): of two rows of
    /// one event in one file, which was kept depended on the order a polars join happened
    /// to give its rows. The later row of the file is kept.
    #[test]
    fn regression_of_one_event_twice_in_a_file_the_later_row_is_kept() {
        let mut df = events(&[
            ("Assessment", "", "", 100, "a.csv"),
            ("Assessment", "", "", 100, "a.csv"),
            ("Assessment", "", "", 100, "a.csv"),
        ]);
        // The council person of the second row has no NHS number on it (rule 1 gives
        // them one); the third row is the later one.
        df.replace(
            "_person",
            Column::new("_person".into(), [Some(7u32), None, Some(7)]),
        )
        .unwrap();
        let outcome = Column::new(
            "event_outcome".into(),
            [Some("first"), Some("second"), Some("third")],
        );
        df.with_column(outcome).unwrap();
        let (out, r) = resolve(df).unwrap();
        assert_eq!(r.superseded, 2);
        let kept = out.column("event_outcome").unwrap().str().unwrap().get(0);
        assert_eq!(kept, Some("third"));
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
        let text = |c: &str| texts_of(&counted, c);
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

#[cfg(test)]
#[path = "social_care_tests.rs"]
mod reference_tests;
