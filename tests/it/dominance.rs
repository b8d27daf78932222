//! The dominance rule (`[disclosure.dominance]`), end to end on the sample: every
//! published delayed bed-days total is checked against the patients behind it, worked
//! out here from `restricted/patient_journey` read back with arrow-rs.

use std::collections::BTreeMap;

use crate::util::*;

/// A group of `discharge_delays`: month, provider, council, pathway, awaited service.
type Key = (String, String, Option<String>, Option<String>, String);

/// Under (2 largest, 30 %), a `discharge_delays` total whose delayed discharges are shown
/// is suppressed exactly when its two largest patients (rows without an NHS number one
/// patient) hold more than 30 % of it, and is otherwise shown rounded as the HES rule
/// rounds it; some are so suppressed in the sample. The manifest records the rule and
/// `explain` says it.
#[test]
fn delayed_bed_days_two_patients_dominate_are_suppressed_and_no_others() {
    let dir = tempfile::tempdir().unwrap();
    let text = sample_pipeline_anywhere(&sample_pipeline_text().replace(
        "[disclosure]\n",
        "[disclosure]\ndominance = { top = 2, max_share_pct = 30 }\n",
    ));
    let pipeline = dir.path().join("dominance.toml");
    std::fs::write(&pipeline, text).unwrap();
    let out = dir.path().join("out");
    run_ok(Some(&pipeline), &out, &[]);

    // Each group's delayed bed-days, and each patient's part of them.
    let j = read_parquet(&out.join("restricted/patient_journey"));
    let mut parts: BTreeMap<Key, BTreeMap<Option<String>, i64>> = BTreeMap::new();
    for i in 0..j.rows {
        let r = j.row(i);
        let (Some(discharged), Some(_)) = (r["discharge_date"], r["discharge_ready_date"]) else {
            continue;
        };
        let delay: i64 = r["delay_days"].unwrap().parse().unwrap();
        if delay <= 0 {
            continue;
        }
        let key = (
            format!("{}-01", &discharged[..7]),
            r["provider_code"].unwrap().to_string(),
            r["la_code"].map(String::from),
            r["discharge_pathway"].map(String::from),
            r["awaited_service"].unwrap().to_string(),
        );
        let person = r["person_id"].map(String::from);
        *parts.entry(key).or_default().entry(person).or_default() += delay;
    }

    let d = read_parquet(&out.join("published/discharge_delays"));
    let (mut dominated, mut shown) = (0, 0);
    for i in 0..d.rows {
        let r = d.row(i);
        if r["delayed_discharges_suppressed"] == Some("true") {
            continue;
        }
        let key = (
            r["month"].unwrap().to_string(),
            r["provider_code"].unwrap().to_string(),
            r["la_code"].map(String::from),
            r["pathway"].map(String::from),
            r["awaited_service"].unwrap().to_string(),
        );
        let Some(patients) = parts.get(&key) else {
            assert_eq!(r["delayed_bed_days"], Some("0"), "{key:?}");
            continue;
        };
        let total: i64 = patients.values().sum();
        let mut largest: Vec<i64> = patients.values().copied().collect();
        largest.sort_unstable_by(|a, b| b.cmp(a));
        let top: i64 = largest.iter().take(2).sum();
        if top * 100 > total * 30 {
            dominated += 1;
            assert_eq!(
                (r["delayed_bed_days"], r["delayed_bed_days_suppressed"]),
                (None, Some("true")),
                "{key:?}: {top} of {total}"
            );
        } else {
            shown += 1;
            let rounded = ((total + 2) / 5 * 5).to_string();
            assert_eq!(
                r["delayed_bed_days"],
                Some(rounded.as_str()),
                "{key:?}: {top} of {total}"
            );
        }
    }
    assert!(
        dominated > 0 && shown > 0,
        "{dominated} dominated, {shown} shown"
    );
    for helper in ["largest_delayed_bed_days", "second_delayed_bed_days"] {
        assert!(!d.names.iter().any(|n| n == helper), "{helper} published");
    }

    let manifest = only_manifest(&out);
    let recorded = manifest["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["dataset"] == "discharge_delays")
        .unwrap();
    assert_eq!(
        recorded["disclosure"]["dominance"],
        serde_json::json!({"top": 2, "max_share_pct": 30})
    );
    let (code, stdout, stderr) = result(&joinedup(&[
        "explain",
        pipeline.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("published/discharge_delays/<YYYY-MM>.parquet by month; 1–7 suppressed, rounded to 5; delayed_bed_days suppressed where its two largest patients hold over 30 %\n"),
        "{stdout}"
    );
}
