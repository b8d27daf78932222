//! The CLD rules against an independent statement of them: polars' own joins, sorts and
//! `unique`s (how [`resolve`] was first written) and a row-by-row clustering, on random
//! events with few distinct values, so that ties, nulls, resubmissions and corrected
//! NHS numbers are common.

use polars::prelude::*;

use super::*;
use crate::synth::rng::Rng;

/// The event-type-specific identity columns and the council id of a person without an
/// NHS key, as expressions.
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
            .otherwise(lit(NULL).cast(DataType::String))
            .alias("_la_id"),
        only("Request", "route_of_access", "_route"),
        only("Service", "service_type", "_service_type"),
        only("Service", "service_component", "_service_component"),
        only("Service", "delivery_mechanism", "_delivery_mechanism"),
    ]
}

/// Rules 1–3 in polars: the resolved events and how many were backfilled.
fn reference(events: DataFrame) -> (DataFrame, u64) {
    let columns = resolved_columns(&events);
    let latest = col("_rank")
        .max()
        .over([
            col("la_code"),
            col("reporting_period_start"),
            col("reporting_period_end"),
        ])
        .unwrap();
    let kept = col("_rank")
        .eq(latest)
        .or(col("_rank").is_null())
        .or(col("reporting_period_start").is_null())
        .or(col("reporting_period_end").is_null());
    let keys = events
        .clone()
        .lazy()
        .filter(col(PERSON).is_not_null())
        .group_by([col("la_code"), col("la_person_id")])
        .agg([col(PERSON).min().alias("person_key")]);
    let common = [
        "la_code",
        "client_type",
        "event_type",
        "event_start",
        "_route",
        "_service_type",
        "_service_component",
        "_delivery_mechanism",
    ];
    let by_council_id: Vec<&str> = common.iter().copied().chain(["la_person_id"]).collect();
    let by_person: Vec<&str> = common.iter().copied().chain([PERSON, "_la_id"]).collect();
    let resolved = events
        .lazy()
        .join(
            keys,
            [col("la_code"), col("la_person_id")],
            [col("la_code"), col("la_person_id")],
            // Rows that tie keep their order, which a join need not keep.
            JoinArgs {
                maintain_order: MaintainOrderJoin::Left,
                ..JoinArgs::new(JoinType::Left)
            },
        )
        .with_column(
            col(PERSON)
                .is_null()
                .and(col("person_key").is_not_null())
                .alias("_backfilled"),
        )
        .with_column(col(PERSON).fill_null(col("person_key")))
        .with_columns(identity_parts())
        .with_column(col(SUBMISSION).cast(DataType::Int64).alias("_rank"))
        .filter(kept)
        .sort(
            ["reporting_period_end", "reporting_period_start", "_rank"],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .unique_stable(Some(cols(by_council_id)), UniqueKeepStrategy::Last)
        .unique_stable(Some(cols(by_person)), UniqueKeepStrategy::Last)
        .sort(
            ["la_code", "la_person_id", "event_start", "event_type"],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .collect()
        .unwrap();
    let backfilled = resolved
        .column("_backfilled")
        .unwrap()
        .bool()
        .unwrap()
        .sum();
    (
        resolved.select(columns).unwrap(),
        u64::from(backfilled.unwrap_or(0)),
    )
}

/// Rule 4 row by row: for each request, whether an earlier request of the same council,
/// person (NHS key, else council id), client type and route of access ends (or starts)
/// at most four days before it starts, counting cluster by cluster in start order.
fn reference_clustered(df: &DataFrame) -> Vec<bool> {
    let text = |c: &str| super::tests::texts_of(df, c);
    let days = |c: &str| super::tests::days_of(df, c);
    let (la, id, client, kind, route) = (
        text("la_code"),
        text("la_person_id"),
        text("client_type"),
        text("event_type"),
        text("route_of_access"),
    );
    let person: Vec<Option<u32>> = df.column(PERSON).unwrap().u32().unwrap().iter().collect();
    let (start, end) = (days("event_start"), days("event_end"));
    let who = |i: usize| {
        (
            person[i],
            if person[i].is_some() {
                None
            } else {
                id[i].clone()
            },
        )
    };
    let mut rows: Vec<usize> = (0..df.height())
        .filter(|&i| kind[i].as_deref() == Some("Request") && start[i].is_some())
        .collect();
    rows.sort_by_key(|&i| {
        (
            la[i].clone(),
            who(i),
            client[i].clone(),
            route[i].clone(),
            start[i],
        )
    });
    let mut clustered = vec![false; df.height()];
    for (n, &i) in rows.iter().enumerate() {
        let same = |&&j: &&usize| {
            (la[j].clone(), who(j), client[j].clone(), route[j].clone())
                == (la[i].clone(), who(i), client[i].clone(), route[i].clone())
        };
        // The reach of the cluster so far: the latest end (else start) of the requests
        // before this one, back to the cluster's first.
        let before: Vec<usize> = rows[..n].iter().rev().take_while(same).copied().collect();
        let mut reach: Option<i32> = None;
        for &j in before.iter().rev() {
            let e = end[j].unwrap_or(start[j].unwrap()).max(start[j].unwrap());
            reach = match reach {
                Some(r) if start[j].unwrap() <= r + CLUSTER_GAP_DAYS => Some(r.max(e)),
                _ => Some(e),
            };
        }
        clustered[i] = reach.is_some_and(|r| start[i].unwrap() <= r + CLUSTER_GAP_DAYS);
    }
    clustered
}

/// Random events of few councils, people, days, periods and files.
fn random_events(rng: &mut Rng) -> DataFrame {
    let n = rng.range(1, 80) as usize;
    let pick = |rng: &mut Rng, values: &[&'static str], null: f64| -> Option<&'static str> {
        (!rng.chance(null)).then(|| values[rng.range(0, values.len() as i64 - 1) as usize])
    };
    let mut columns: Vec<(&str, Vec<Option<&'static str>>)> = Vec::new();
    for (name, values, null) in [
        ("la_code", &["901", "902"][..], 0.05),
        ("la_person_id", &["A1", "A2", "B7", "C3"][..], 0.05),
        ("client_type", &["Service User", "Carer"][..], 0.0),
        (
            "event_type",
            &["Request", "Assessment", "Service", "Review"][..],
            0.0,
        ),
        (
            "route_of_access",
            &["Discharge from Hospital", "Community"][..],
            0.3,
        ),
        (
            "service_type",
            &["Long Term Support", "Short Term Support"][..],
            0.3,
        ),
        (
            "service_component",
            &["Home Support", "Residential"][..],
            0.3,
        ),
        (
            "delivery_mechanism",
            &["Direct Payment", "Managed"][..],
            0.3,
        ),
        ("event_outcome", &["NFA - Other", "Progress"][..], 0.3),
        ("source_file", &["q1.csv", "q1-v2.csv", "q2.csv"][..], 0.0),
    ] {
        columns.push((name, (0..n).map(|_| pick(rng, values, null)).collect()));
    }
    let days = |rng: &mut Rng, lo: i64, hi: i64, null: f64| -> Vec<Option<i32>> {
        (0..n)
            .map(|_| (!rng.chance(null)).then(|| rng.range(lo, hi) as i32))
            .collect()
    };
    let start = days(rng, 20_000, 20_012, 0.05);
    let end: Vec<Option<i32>> = start
        .iter()
        .map(|s| {
            s.filter(|_| rng.chance(0.6))
                .map(|s| s + rng.range(0, 3) as i32)
        })
        .collect();
    let period_end = days(rng, 0, 2, 0.1);
    let period_start = days(rng, 0, 1, 0.1);
    let person: Vec<Option<u32>> = (0..n)
        .map(|_| (!rng.chance(0.3)).then(|| rng.range(0, 4) as u32))
        .collect();
    let submission: Vec<Option<i64>> = columns[9]
        .1
        .iter()
        .map(|f| match *f {
            Some("q1.csv") => Some(0),
            Some("q1-v2.csv") => Some(1),
            _ => Some(2),
        })
        .collect();
    let date = |name: &str, v: Vec<Option<i32>>, base: i32| {
        Column::new(
            name.into(),
            v.into_iter()
                .map(|d| d.map(|d| d * 30 + base))
                .collect::<Vec<_>>(),
        )
        .cast(&DataType::Date)
        .unwrap()
    };
    let mut frame: Vec<Column> = columns
        .into_iter()
        .map(|(name, values)| {
            let c = Column::new(name.into(), values);
            if matches!(name, "la_person_id" | "source_file") {
                c
            } else {
                c.cast(&crate::normalise::categorical()).unwrap()
            }
        })
        .collect();
    frame.push(Column::new(PERSON.into(), person));
    frame.push(
        Column::new("event_start".into(), start)
            .cast(&DataType::Date)
            .unwrap(),
    );
    frame.push(
        Column::new("event_end".into(), end)
            .cast(&DataType::Date)
            .unwrap(),
    );
    frame.push(date("reporting_period_end", period_end, 19_029));
    frame.push(date("reporting_period_start", period_start, 19_000));
    frame.push(Column::new(SUBMISSION.into(), submission));
    DataFrame::new(n, frame).unwrap()
}

#[test]
fn random_events_resolve_as_polars_joins_sorts_and_uniques_resolve_them() {
    let mut rng = Rng::new(11, 6);
    let (mut superseded, mut backfilled, mut clustered) = (0, 0, 0);
    for round in 0..300 {
        let events = random_events(&mut rng);
        let (expected, expected_backfilled) = reference(events.clone());
        let (got, r) = resolve(events.clone()).unwrap();
        assert!(
            got.equals_missing(&expected),
            "round {round}: events\n{events}\ngot\n{got}\nexpected\n{expected}"
        );
        assert_eq!(
            r.person_key_backfilled, expected_backfilled,
            "round {round}"
        );
        assert_eq!(r.superseded, (events.height() - expected.height()) as u64);
        let expected_clustered = reference_clustered(&got);
        assert_eq!(
            clustered_requests(&got).unwrap(),
            expected_clustered,
            "round {round}\n{got}"
        );
        superseded += r.superseded;
        backfilled += r.person_key_backfilled;
        clustered += r.requests_clustered;
    }
    // The random events exercise every rule.
    assert!(
        superseded > 300 && backfilled > 100 && clustered > 50,
        "{superseded} {backfilled} {clustered}"
    );
}

/// Without the files' own places in submission order, the shown names give them (and
/// the same events are kept).
#[test]
fn random_events_resolve_alike_by_shown_file_names() {
    let mut rng = Rng::new(12, 6);
    for round in 0..100 {
        let events = random_events(&mut rng);
        let (by_place, _) = resolve(events.clone()).unwrap();
        let (by_name, _) = resolve(events.drop(SUBMISSION).unwrap()).unwrap();
        assert!(by_name.equals_missing(&by_place), "round {round}");
    }
}
