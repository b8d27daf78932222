//! Tests of the journey: pinned boundary and tie cases, pinned derived columns, and random
//! data (with many ties and unmatched people) checked against a plain pairwise reference
//! of the rules.

use polars::prelude::*;

use super::*;
use crate::synth::rng::Rng;

const DAY_MS: i64 = 86_400_000;

fn plan() -> LinkPlan {
    LinkPlan {
        ed_window_hours: 12,
        care_window_days: 5,
        discharge_route: "Discharge from Hospital".into(),
        readmission_window_days: 30,
    }
}

struct Spell {
    person: Option<u32>,
    admitted_ms: i64,
    discharge: Option<i32>,
    ready: Option<i32>,
    emergency: bool,
}

struct Attendance {
    id: String,
    person: Option<u32>,
    arrival_ms: Option<i64>,
}

struct Event {
    person: Option<u32>,
    kind: &'static str,
    route: &'static str,
    start: Option<i32>,
    la: String,
    group: Option<&'static str>,
}

fn frames(spells: &[Spell], ed: &[Attendance], care: &[Event]) -> [DataFrame; 3] {
    let n = spells.len();
    let s = df!(
        "spell_id" => (0..n).map(|i| format!("S{i:03}")).collect::<Vec<_>>(),
        PERSON => spells.iter().map(|s| s.person).collect::<Vec<_>>(),
        "person_id" => spells.iter().map(|s| s.person.map(|p| format!("P{p}"))).collect::<Vec<_>>(),
        "provider_code" => vec!["RX1"; n],
        "admission_date" => spells.iter().map(|s| (s.admitted_ms.div_euclid(DAY_MS)) as i32).collect::<Vec<_>>(),
        "admission_datetime" => spells.iter().map(|s| s.admitted_ms).collect::<Vec<_>>(),
        "admission_method" => spells.iter().map(|s| if s.emergency { "21" } else { "11" }).collect::<Vec<_>>(),
        "admission_source" => vec!["19"; n],
        "admission_type" => spells.iter().map(|s| if s.emergency { "emergency" } else { "elective" }).collect::<Vec<_>>(),
        "discharge_date" => spells.iter().map(|s| s.discharge).collect::<Vec<_>>(),
        "discharge_destination" => vec!["19"; n],
        "discharge_destination_group" => vec!["returned_home"; n],
        "discharge_method" => vec!["1"; n],
        "discharge_ready_date" => spells.iter().map(|s| s.ready).collect::<Vec<_>>(),
        "source" => vec!["apc"; n],
    )
    .unwrap()
    .lazy()
    .with_columns([
        col("admission_date").cast(DataType::Date),
        col("admission_datetime").cast(DataType::Datetime(TimeUnit::Milliseconds, None)),
        col("discharge_date").cast(DataType::Date),
        col("discharge_ready_date").cast(DataType::Date),
    ])
    .collect()
    .unwrap();
    let e = df!(
        "attendance_id" => ed.iter().map(|a| a.id.clone()).collect::<Vec<_>>(),
        PERSON => ed.iter().map(|a| a.person).collect::<Vec<_>>(),
        "arrival" => ed.iter().map(|a| a.arrival_ms).collect::<Vec<_>>(),
        "departure" => ed.iter().map(|a| a.arrival_ms.map(|x| x + 3_600_000)).collect::<Vec<_>>(),
    )
    .unwrap()
    .lazy()
    .with_columns([
        col("arrival").cast(DataType::Datetime(TimeUnit::Milliseconds, None)),
        col("departure").cast(DataType::Datetime(TimeUnit::Milliseconds, None)),
    ])
    .collect()
    .unwrap();
    let c = df!(
        PERSON => care.iter().map(|e| e.person).collect::<Vec<_>>(),
        "event_type" => care.iter().map(|e| e.kind).collect::<Vec<_>>(),
        "route_of_access" => care.iter().map(|e| e.route).collect::<Vec<_>>(),
        "event_start" => care.iter().map(|e| e.start).collect::<Vec<_>>(),
        "la_code" => care.iter().map(|e| e.la.clone()).collect::<Vec<_>>(),
        "service_group" => care.iter().map(|e| e.group).collect::<Vec<_>>(),
    )
    .unwrap()
    .lazy()
    .with_column(col("event_start").cast(DataType::Date))
    .collect()
    .unwrap();
    [s, e, c]
}

/// A text column's values.
fn text(df: &DataFrame, name: &str) -> Vec<Option<String>> {
    df.column(name)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|x| x.map(String::from))
        .collect()
}

/// Per spell: ED attendance id, request date and council, assessment date, service
/// start and group (dates as days since 1970), readmission spell id.
type Links = (
    Option<String>,
    Option<i32>,
    Option<String>,
    Option<i32>,
    Option<i32>,
    Option<String>,
    Option<String>,
);

fn linked(spells: &[Spell], ed: &[Attendance], care: &[Event]) -> Vec<Links> {
    let [s, e, c] = frames(spells, ed, care);
    let all = patient_journey(&s, &e, &c, &plan()).unwrap();
    // Linking with only the attendances that can link (picked in two parts) is the same.
    let picker = EdCandidates::new(&s, &plan()).unwrap();
    let half = e.height() as i64 / 2;
    let mut picked = picker.pick(&e.slice(0, half as usize)).unwrap();
    picked
        .vstack_mut_owned(picker.pick(&e.slice(half, e.height())).unwrap())
        .unwrap();
    assert!(picked.height() <= e.height());
    assert!(
        patient_journey(&s, &picked, &c, &plan())
            .unwrap()
            .equals_missing(&all),
        "the same journeys from the candidate attendances"
    );
    let df = all
        .lazy()
        .with_columns([
            col("care_request_date").cast(DataType::Int32),
            col("care_assessment_date").cast(DataType::Int32),
            col("care_service_start").cast(DataType::Int32),
        ])
        .collect()
        .unwrap();
    let str_col = |n: &str| text(&df, n);
    let i32_col =
        |n: &str| -> Vec<Option<i32>> { df.column(n).unwrap().i32().unwrap().iter().collect() };
    let spell_ids = str_col("spell_id");
    assert_eq!(
        spell_ids,
        (0..spells.len())
            .map(|i| Some(format!("S{i:03}")))
            .collect::<Vec<_>>(),
        "one row per spell, in the spells' order"
    );
    let (ed_id, req, req_la, ass, svc, grp, readmission) = (
        str_col("ed_attendance_id"),
        i32_col("care_request_date"),
        str_col("la_code"),
        i32_col("care_assessment_date"),
        i32_col("care_service_start"),
        str_col("awaited_service"),
        str_col("readmission_spell_id"),
    );
    (0..spells.len())
        .map(|i| {
            (
                ed_id[i].clone(),
                req[i],
                // la_code is the service's council, else the request's.
                req_la[i].clone(),
                ass[i],
                svc[i],
                grp[i].clone(),
                readmission[i].clone(),
            )
        })
        .collect()
}

/// The rules, pair by pair, in plain Rust.
fn reference(spells: &[Spell], ed: &[Attendance], care: &[Event]) -> Vec<Links> {
    let p = plan();
    spells
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let admitted_day = s.admitted_ms.div_euclid(DAY_MS) as i32;
            let same = |x: Option<u32>| s.person.is_some() && x == s.person;
            let ed_id = ed
                .iter()
                .filter(|a| same(a.person))
                .filter_map(|a| a.arrival_ms.map(|t| (t, a.id.clone())))
                .filter(|(t, _)| *t <= s.admitted_ms)
                .max()
                .filter(|(t, _)| *t >= s.admitted_ms - p.ed_window_hours * 3_600_000)
                // Only an emergency admission, the first after the arrival (then the
                // smallest spell id, which is the row order here).
                .filter(|(t, _)| {
                    s.emergency
                        && !spells.iter().enumerate().any(|(j, r)| {
                            same(r.person)
                                && r.emergency
                                && r.admitted_ms >= *t
                                && (r.admitted_ms, j) < (s.admitted_ms, i)
                        })
                })
                .map(|(_, id)| id);
            let end = s.ready.or(s.discharge).unwrap_or(admitted_day) + p.care_window_days as i32;
            // The window's end: the person's next admission (day, time, id) on or after
            // the discharge date (any later one while the spell is open); the day after
            // the discharge when the stay goes on in another spell (overlapping it and
            // discharged later; the same day: admitted first).
            let key = |j: usize, r: &Spell| {
                (
                    r.admitted_ms.div_euclid(DAY_MS) as i32,
                    r.admitted_ms,
                    format!("S{j:03}"),
                )
            };
            let day = |r: &Spell| r.admitted_ms.div_euclid(DAY_MS) as i32;
            let others = || {
                spells
                    .iter()
                    .enumerate()
                    .filter(move |(j, r)| *j != i && same(r.person))
            };
            let next = others()
                .filter(|(j, r)| key(*j, r) > key(i, s))
                .filter(|(_, r)| s.discharge.is_none_or(|d| day(r) >= d))
                .map(|(_, r)| day(r))
                .min();
            let goes_on = s.discharge.filter(|&d| {
                others().any(|(j, r)| {
                    let Some(e) = r.discharge else { return false };
                    let overlaps = if key(j, r) > key(i, s) {
                        day(r) < d
                    } else {
                        key(j, r) == key(i, s) || admitted_day < e
                    };
                    overlaps && (e > d || (e == d && key(j, r) < key(i, s)))
                })
            });
            let next = match (next, goes_on.map(|d| d + 1)) {
                (Some(x), Some(y)) => Some(x.min(y)),
                (x, y) => x.or(y),
            };
            let before_next = |d: i32| next.is_none_or(|n| d < n);
            let in_stay = |d: i32| d >= admitted_day && d <= end && before_next(d);
            let request = care
                .iter()
                .filter(|e| same(e.person) && e.kind == "Request" && e.route == p.discharge_route)
                .filter_map(|e| e.start.map(|d| (d, e.la.clone())))
                .filter(|(d, _)| in_stay(*d))
                .min();
            let assessment = care
                .iter()
                .filter(|e| same(e.person) && e.kind == "Assessment")
                .filter_map(|e| e.start)
                .filter(|d| in_stay(*d))
                .min();
            let service = s.ready.and_then(|ready| {
                care.iter()
                    .filter(|e| same(e.person) && e.kind == "Service")
                    .filter_map(|e| {
                        e.start
                            .map(|d| (d, e.group.unwrap_or("other").to_string(), e.la.clone()))
                    })
                    .filter(|(d, _, _)| {
                        *d >= ready && *d <= ready + p.care_window_days as i32 && before_next(*d)
                    })
                    .min()
            });
            let la = service
                .as_ref()
                .map(|x| x.2.clone())
                .or(request.as_ref().map(|x| x.1.clone()));
            // Another emergency spell of the person admitted after this one (time, then
            // id) and 0-30 days after discharge; the earliest day, then the smallest id.
            let readmission = s.discharge.and_then(|d| {
                spells
                    .iter()
                    .enumerate()
                    .filter(|(j, r)| {
                        r.emergency
                            && same(r.person)
                            && (r.admitted_ms, format!("S{j:03}"))
                                > (s.admitted_ms, format!("S{i:03}"))
                    })
                    .map(|(j, r)| {
                        (
                            (r.admitted_ms.div_euclid(DAY_MS)) as i32,
                            format!("S{j:03}"),
                        )
                    })
                    .filter(|(day, _)| *day >= d && *day <= d + p.readmission_window_days as i32)
                    .min()
                    .map(|(_, id)| id)
            });
            (
                ed_id,
                request.map(|x| x.0),
                la,
                assessment,
                service.as_ref().map(|x| x.0),
                Some(service.map(|x| x.1).unwrap_or_else(|| "none".into())),
                readmission,
            )
        })
        .collect()
}

fn event(person: u32, kind: &'static str, start: i32, la: &str) -> Event {
    Event {
        person: Some(person),
        kind,
        route: if kind == "Request" {
            "Discharge from Hospital"
        } else {
            ""
        },
        start: Some(start),
        la: la.into(),
        group: (kind == "Service").then_some("home_care"),
    }
}

#[test]
fn boundaries_ties_and_unmatched_people_are_pinned() {
    let noon = |day: i64| day * DAY_MS + 12 * 3_600_000;
    let spell = |person: u32, day: i64| Spell {
        person: Some(person),
        admitted_ms: noon(day),
        discharge: Some(day as i32 + 4),
        ready: Some(day as i32 + 2),
        emergency: true,
    };
    // Person 3 has nothing to link and sits between people who do.
    let spells = [spell(1, 100), spell(3, 100), spell(2, 100), spell(4, 100)];
    let att = |id: &str, person: u32, ms: i64| Attendance {
        id: id.into(),
        person: Some(person),
        arrival_ms: Some(ms),
    };
    let ed = [
        // Two arrivals at the same instant: the greater id wins; a later one is ignored.
        att("A1", 1, noon(100) - 7_200_000),
        att("A2", 1, noon(100) - 7_200_000),
        att("A3", 1, noon(100) + 1),
        // Exactly at the window's start: in.
        att("B1", 2, noon(100) - 12 * 3_600_000),
        // One millisecond before it: out.
        att("D1", 4, noon(100) - 12 * 3_600_000 - 1),
    ];
    let care = [
        // Same-day requests: the smaller council code wins.
        event(1, "Request", 101, "903"),
        event(1, "Request", 101, "901"),
        // Request on the window end (ready + 5 = 107): in; the day after: out.
        event(2, "Request", 107, "902"),
        event(4, "Request", 108, "902"),
        // Assessment before admission: out; on admission day: in.
        event(1, "Assessment", 99, "901"),
        event(1, "Assessment", 100, "901"),
        // Services: before the ready date out; on it in; ready + 5 in; ready + 6 out.
        event(1, "Service", 101, "901"),
        event(1, "Service", 102, "901"),
        event(2, "Service", 107, "902"),
        event(4, "Service", 108, "902"),
    ];
    let got = linked(&spells, &ed, &care);
    assert_eq!(got, reference(&spells, &ed, &care));
    let s = |x: &str| Some(x.to_string());
    assert_eq!(
        got,
        [
            (
                s("A2"),
                Some(101),
                s("901"),
                Some(100),
                Some(102),
                s("home_care"),
                None
            ),
            (None, None, None, None, None, s("none"), None),
            (
                s("B1"),
                Some(107),
                s("902"),
                None,
                Some(107),
                s("home_care"),
                None
            ),
            (None, None, None, None, None, s("none"), None),
        ]
    );
}

/// Regression (found by an independent recomputation): an attendance linked to every
/// spell of the person admitted within the window after it, so the attendance that led
/// to an evening's emergency admission was also the next morning's planned admission's,
/// and `admissions_via_ae` counted it twice. It leads to the first emergency admission
/// after it only (equal admission times: the smallest spell id); a planned admission
/// takes none.
#[test]
fn regression_an_attendance_leads_to_one_admission_only() {
    let at = |day: i64, hour: i64| day * DAY_MS + hour * 3_600_000;
    let spell = |person: u32, admitted_ms: i64, emergency: bool| Spell {
        person: Some(person),
        admitted_ms,
        discharge: Some(admitted_ms.div_euclid(DAY_MS) as i32 + 1),
        ready: None,
        emergency,
    };
    let spells = [
        // Planned admission the next morning, 10 h after the attendance (row first).
        spell(1, at(100, 6), false),
        // The emergency admission the attendance led to.
        spell(1, at(99, 21), true),
        // Two admissions at one instant: the first row takes the attendance.
        spell(2, at(50, 12), true),
        spell(2, at(50, 12), true),
        // A second attendance between two admissions: each has its own.
        spell(3, at(10, 12), true),
        spell(3, at(10, 20), true),
        // A planned admission an hour after the attendance, the emergency one two: the
        // attendance led to the emergency admission.
        spell(4, at(30, 11), false),
        spell(4, at(30, 12), true),
    ];
    let att = |id: &str, person: u32, ms: i64| Attendance {
        id: id.into(),
        person: Some(person),
        arrival_ms: Some(ms),
    };
    let ed = [
        att("A", 1, at(99, 20)),
        att("B", 2, at(50, 10)),
        att("C1", 3, at(10, 11)),
        att("C2", 3, at(10, 19)),
        att("D", 4, at(30, 10)),
    ];
    let got = linked(&spells, &ed, &[]);
    assert_eq!(got, reference(&spells, &ed, &[]));
    let ids: Vec<Option<&str>> = got.iter().map(|l| l.0.as_deref()).collect();
    assert_eq!(
        ids,
        [
            None,
            Some("A"),
            Some("B"),
            None,
            Some("C1"),
            Some("C2"),
            None,
            Some("D")
        ]
    );
}

#[test]
fn random_journeys_match_the_pairwise_rules() {
    let mut rng = Rng::new(7, 1);
    let mut seen = [0usize; 5];
    for round in 0..20 {
        let people = rng.range(1, 30) as u32;
        let person =
            |rng: &mut Rng| (!rng.chance(0.05)).then(|| rng.range(0, people as i64 - 1) as u32);
        // Few distinct days and hours, so ties and window edges are common.
        let spells: Vec<Spell> = (0..rng.range(1, 60))
            .map(|_| {
                let day = rng.range(0, 20);
                let admitted_ms = day * DAY_MS + rng.range(0, 4) * 6 * 3_600_000;
                let stay = rng.range(0, 6) as i32;
                let discharge = (!rng.chance(0.1)).then_some(day as i32 + stay);
                Spell {
                    person: person(&mut rng),
                    admitted_ms,
                    discharge,
                    ready: discharge
                        .filter(|_| !rng.chance(0.2))
                        .map(|d| d - rng.range(0, 3) as i32),
                    emergency: rng.chance(0.6),
                }
            })
            .collect();
        let ed: Vec<Attendance> = (0..rng.range(0, 120))
            .map(|i| Attendance {
                id: format!("E{:02}", rng.range(0, 99) * 100 + i),
                person: person(&mut rng),
                arrival_ms: (!rng.chance(0.05))
                    .then(|| rng.range(0, 21) * DAY_MS + rng.range(0, 8) * 3 * 3_600_000),
            })
            .collect();
        let kinds = ["Request", "Assessment", "Service", "Review"];
        let care: Vec<Event> = (0..rng.range(0, 120))
            .map(|_| {
                let kind = kinds[rng.range(0, 3) as usize];
                Event {
                    person: person(&mut rng),
                    kind,
                    route: if rng.chance(0.8) {
                        "Discharge from Hospital"
                    } else {
                        "Community"
                    },
                    start: (!rng.chance(0.05)).then(|| rng.range(0, 28) as i32),
                    la: format!("90{}", rng.range(1, 4)),
                    group: [Some("home_care"), Some("reablement"), None][rng.range(0, 2) as usize],
                }
            })
            .collect();
        let got = linked(&spells, &ed, &care);
        assert_eq!(got, reference(&spells, &ed, &care), "round {round}");
        for l in &got {
            for (n, x) in seen.iter_mut().zip([
                l.0.is_some(),
                l.1.is_some(),
                l.3.is_some(),
                l.4.is_some(),
                l.6.is_some(),
            ]) {
                *n += usize::from(x);
            }
        }
    }
    // The random data exercised every kind of link: A&E, request, assessment, service,
    // readmission.
    assert!(seen.iter().all(|n| *n > 20), "links found: {seen:?}");
}

/// Regression: `spell_id` is unique only within a provider. When the journey grouped and
/// joined on it, two trusts' spells with the same number shared (and duplicated) links.
#[test]
fn spells_sharing_a_number_at_two_trusts_keep_their_own_links() {
    let spell = |person: u32| Spell {
        person: Some(person),
        admitted_ms: 100 * DAY_MS,
        discharge: Some(104),
        ready: Some(102),
        emergency: true,
    };
    let att = |id: &str, person: u32| Attendance {
        id: id.into(),
        person: Some(person),
        arrival_ms: Some(100 * DAY_MS - 3_600_000),
    };
    let [s, e, c] = frames(
        &[spell(1), spell(2)],
        &[att("E1", 1), att("E2", 2)],
        &[event(2, "Service", 103, "902")],
    );
    let s = s
        .lazy()
        .with_column(lit("S1").alias("spell_id"))
        .collect()
        .unwrap();
    let df = patient_journey(&s, &e, &c, &plan()).unwrap();
    let text = |n: &str| text(&df, n);
    assert_eq!(df.height(), 2);
    assert_eq!(
        text("ed_attendance_id"),
        [Some("E1".to_string()), Some("E2".to_string())]
    );
    assert_eq!(
        text("awaited_service"),
        [Some("none".to_string()), Some("home_care".to_string())]
    );
}

#[test]
fn readmissions_are_other_emergency_spells_from_discharge_to_thirty_days_after() {
    let spell = |admitted: i64, discharge: i32, emergency: bool| Spell {
        person: Some(1),
        admitted_ms: admitted * DAY_MS,
        discharge: Some(discharge),
        ready: None,
        emergency,
    };
    let spells = [
        // S000: readmitted the day it left (S003), not by the elective S002.
        spell(5, 10, true),
        // S001: on the window's last day for S003 (10 + 30); nothing after it.
        spell(40, 41, true),
        // S002: elective, so never a readmission itself; readmitted by S001.
        spell(12, 13, false),
        // S003: a same-day emergency spell is not its own readmission.
        spell(10, 10, true),
        // S004 and S005, one day: the morning's spell is readmitted by the afternoon's,
        // not the other way round (regression: dates alone linked both ways).
        Spell {
            admitted_ms: 200 * DAY_MS + 8 * 3_600_000,
            ..spell(0, 200, true)
        },
        Spell {
            admitted_ms: 200 * DAY_MS + 14 * 3_600_000,
            ..spell(0, 200, true)
        },
    ];
    let got: Vec<Option<String>> = linked(&spells, &[], &[]).into_iter().map(|l| l.6).collect();
    assert_eq!(
        got,
        reference(&spells, &[], &[])
            .into_iter()
            .map(|l| l.6)
            .collect::<Vec<_>>()
    );
    let s = |x: &str| Some(x.to_string());
    assert_eq!(
        got,
        [s("S003"), None, s("S001"), s("S001"), s("S005"), None]
    );
}

#[test]
fn derived_columns_are_pinned() {
    let at = |day: i64, minutes: i64| day * DAY_MS + minutes * 60_000;
    let spells = [
        // Stayed 10 days, ready after 5; readmitted (the next spell).
        Spell {
            person: Some(1),
            admitted_ms: at(100, 600),
            discharge: Some(110),
            ready: Some(105),
            emergency: true,
        },
        // Still in hospital.
        Spell {
            person: Some(1),
            admitted_ms: at(115, 0),
            discharge: None,
            ready: None,
            emergency: true,
        },
        // No ready date; a request from hospital but no service.
        Spell {
            person: Some(2),
            admitted_ms: at(200, 600),
            discharge: Some(203),
            ready: None,
            emergency: true,
        },
    ];
    let ed = [
        Attendance {
            id: "A1".into(),
            person: Some(1),
            arrival_ms: Some(at(100, 480)),
        },
        Attendance {
            id: "A2".into(),
            person: Some(2),
            arrival_ms: Some(at(200, 120)),
        },
    ];
    let event = |person, kind, route, start, la: &str, group| Event {
        person: Some(person),
        kind,
        route,
        start: Some(start),
        la: la.into(),
        group,
    };
    let care = [
        event(1, "Service", "", 107, "E1", Some("home_care")),
        event(2, "Request", "Discharge from Hospital", 201, "E2", None),
    ];
    let [s, mut e, c] = frames(&spells, &ed, &care);
    // A1 lasted 90.5 minutes; A2's departure is 61 s before its arrival (truncated
    // towards zero: -1, not -2).
    let departure = Series::new(
        "departure".into(),
        [at(100, 480) + 5_430_000, at(200, 120) - 61_000],
    )
    .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
    .unwrap();
    e.replace("departure", departure.into_column()).unwrap();
    let journey = patient_journey(&s, &e, &c, &plan()).unwrap();
    let ints = |name: &str| -> Vec<Option<i64>> {
        journey
            .column(name)
            .unwrap()
            .i64()
            .unwrap()
            .iter()
            .collect()
    };
    let texts = |name: &str| -> Vec<Option<String>> {
        let c = journey
            .column(name)
            .unwrap()
            .cast(&DataType::String)
            .unwrap();
        c.str()
            .unwrap()
            .iter()
            .map(|x| x.map(String::from))
            .collect()
    };
    let owned = |v: [Option<&str>; 3]| v.map(|x| x.map(String::from)).to_vec();
    assert_eq!(ints("length_of_stay_days"), [Some(10), None, Some(3)]);
    assert_eq!(ints("delay_days"), [Some(5), None, None]);
    assert_eq!(ints("ed_duration_minutes"), [Some(90), None, Some(-1)]);
    assert_eq!(ints("days_ready_to_service"), [Some(2), None, None]);
    let readmitted: Vec<Option<bool>> = journey
        .column("emergency_readmission_30d")
        .unwrap()
        .bool()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(readmitted, [Some(true), None, Some(false)]);
    assert_eq!(
        texts("awaited_service"),
        owned([Some("home_care"), Some("none"), Some("none")])
    );
    assert_eq!(texts("la_code"), owned([Some("E1"), None, Some("E2")]));
    assert_eq!(
        texts("discharge_pathway"),
        owned([Some("P1"), None, Some("P0")])
    );
}

/// Regression: a care-home resident discharged back was P0 (NHS England's sitrep calls it
/// P3b), and a death recorded only in the discharge method got a pathway.
#[test]
fn care_home_residents_discharged_back_are_p3b_and_deaths_by_method_have_no_pathway() {
    let spells = df!(
        "discharge_date" => [Some(1i32), Some(1), Some(1), Some(1), Some(1), None],
        "discharge_destination_group" => ["care_home", "care_home", "returned_home", "returned_home", "returned_home", "returned_home"],
        "admission_source" => ["54", "19", "19", "19", "19", "19"],
        "discharge_method" => ["1", "1", "4", "5", "1", "1"],
    )
    .unwrap();
    let awaited = Column::new(
        "awaited".into(),
        [None, None, None, Some("home_care"), Some("home_care"), None],
    );
    let got = crate::test_support::texts(&pathways(&spells, &awaited).unwrap());
    let s = |x: &str| Some(x.to_string());
    assert_eq!(got, [s("P3b"), s("P3"), None, None, s("P1"), None]);
}

/// Regression (analytics review): a request and a service after the person's next
/// admission were linked to the earlier spell too (its window is the ready date plus
/// `care_window_days`), so one service was counted for two spells and gave the first a
/// pathway (P3) its destination (home) contradicted. Care after a readmission belongs to
/// the later spell only.
#[test]
fn regression_care_after_the_next_admission_belongs_to_that_spell() {
    let spells = [
        // S000: days 1-5, ready on day 5; window to day 10.
        Spell {
            person: Some(1),
            admitted_ms: DAY_MS,
            discharge: Some(5),
            ready: Some(5),
            emergency: true,
        },
        // S001: readmitted on day 8, ready on day 9.
        Spell {
            person: Some(1),
            admitted_ms: 8 * DAY_MS,
            discharge: Some(12),
            ready: Some(9),
            emergency: true,
        },
    ];
    let event = |kind: &'static str, day: i32| Event {
        person: Some(1),
        kind,
        route: "Discharge from Hospital",
        start: Some(day),
        la: "901".to_string(),
        group: Some("care_home"),
    };
    let care = [
        event("Request", 9),
        event("Assessment", 9),
        event("Service", 9),
    ];
    let got = linked(&spells, &[], &care);
    assert_eq!(got, reference(&spells, &[], &care));
    let (first, second) = (&got[0], &got[1]);
    assert_eq!((first.1, first.3, first.4), (None, None, None), "{first:?}");
    assert_eq!(first.5.as_deref(), Some("none"));
    assert_eq!((second.1, second.3, second.4), (Some(9), Some(9), Some(9)));
    assert_eq!(second.5.as_deref(), Some("care_home"));
}

/// Regression (measures review, case `readm`): a spell nested in another (admitted 5,
/// discharged 8, inside a stay of days 1-20) ended the outer spell's care window at its
/// admission, so the home care starting on the outer spell's discharge day was linked to
/// the nested spell (ready on day 7) and the outer one came out `none`/P0. A spell
/// admitted during a stay does not end its window; the nested spell's window ends the
/// day after its discharge, as the stay goes on in the outer spell. Neither is the
/// other's readmission.
#[test]
fn regression_a_nested_spell_does_not_end_the_outer_spells_care_window() {
    let spell = |admitted: i64, discharge: i32, ready: i32| Spell {
        person: Some(1),
        admitted_ms: admitted * DAY_MS + 10 * 3_600_000,
        discharge: Some(discharge),
        ready: Some(ready),
        emergency: true,
    };
    // S000: the outer stay (ready on day 16: the window is 5 days here); S001: nested in
    // it; S002 (another person): the same dates
    // on their own, for comparison.
    let spells = [
        spell(1, 20, 16),
        spell(5, 8, 7),
        Spell {
            person: Some(2),
            ..spell(5, 8, 7)
        },
    ];
    let care = [
        event(1, "Service", 20, "901"),
        event(2, "Service", 8, "901"),
    ];
    let got = linked(&spells, &[], &care);
    assert_eq!(got, reference(&spells, &[], &care));
    let services: Vec<_> = got
        .iter()
        .map(|l| (l.4, l.5.as_deref(), l.6.as_deref()))
        .collect();
    assert_eq!(
        services,
        [
            (Some(20), Some("home_care"), None),
            (None, Some("none"), None),
            (Some(8), Some("home_care"), None),
        ]
    );
    // A service on the nested spell's discharge day is still its own.
    let care = [event(1, "Service", 8, "901")];
    let got = linked(&spells, &[], &care);
    assert_eq!(got, reference(&spells, &[], &care));
    assert_eq!((got[0].4, got[1].4), (None, Some(8)));
}

/// Regression (analytics review): a transfer to another hospital was counted as an
/// emergency readmission (the receiving spell, admitted by transfer, 2B, the same day),
/// and a patient who died was `false` (kept in a readmission rate's denominator). Now a
/// 2B admission is no readmission, and a spell ending in death or a transfer out has
/// none (null).
#[test]
fn regression_transfers_are_not_readmissions_and_deaths_have_none() {
    let spells = df!(
        "spell_id" => ["A", "B", "C", "D", "E", "F", "G"],
        PERSON => [1u32, 1, 2, 2, 3, 4, 4],
        "person_id" => ["P1", "P1", "P2", "P2", "P3", "P4", "P4"],
        "provider_code" => ["RX1", "RX2", "RX1", "RX1", "RX1", "RX1", "RX2"],
        "admission_date" => [10i32, 12, 10, 20, 10, 10, 15],
        "admission_datetime" => [10 * DAY_MS, 12 * DAY_MS + 3_600_000, 10 * DAY_MS, 20 * DAY_MS, 10 * DAY_MS, 10 * DAY_MS, 15 * DAY_MS],
        // B and G are transfers in; D an ordinary emergency admission.
        "admission_method" => ["21", "2B", "21", "21", "21", "21", "2B"],
        "admission_source" => ["19", "51", "19", "19", "19", "19", "51"],
        "admission_type" => ["emergency"; 7],
        "discharge_date" => [Some(12i32), Some(20), Some(15), Some(25), Some(14), Some(12), Some(20)],
        // A left for another NHS hospital (B); C and F went home; E died.
        "discharge_destination" => ["51", "19", "19", "19", "79", "19", "19"],
        "discharge_destination_group" => ["nhs_provider", "returned_home", "returned_home", "returned_home", "died", "returned_home", "returned_home"],
        "discharge_method" => ["1", "1", "1", "1", "4", "1", "1"],
        "discharge_ready_date" => [None::<i32>; 7],
        "source" => ["apc"; 7],
    )
    .unwrap()
    .lazy()
    .with_columns([
        col("admission_date").cast(DataType::Date),
        col("admission_datetime").cast(DataType::Datetime(TimeUnit::Milliseconds, None)),
        col("discharge_date").cast(DataType::Date),
        col("discharge_ready_date").cast(DataType::Date),
    ])
    .collect()
    .unwrap();
    let [_, ed, care] = frames(&[], &[], &[]);
    let journey = patient_journey(&spells, &ed, &care, &plan()).unwrap();
    let flags: Vec<Option<bool>> = journey
        .column("emergency_readmission_30d")
        .unwrap()
        .bool()
        .unwrap()
        .iter()
        .collect();
    // F went home and was admitted three days later by transfer (2B, regression: the
    // rule was put in the A&E link and F was flagged): no readmission.
    assert_eq!(
        flags,
        [
            None,
            Some(false),
            Some(true),
            Some(false),
            None,
            Some(false),
            Some(false)
        ]
    );
    assert_eq!(
        text(&journey, "readmission_spell_id"),
        [None, None, Some("D".to_string()), None, None, None, None]
    );
}
