//! The synthetic ICB generator: deterministic, and the pipeline recovers what it planted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::util::*;

fn synth(out: &Path, people: &str, seed: &str) -> serde_json::Value {
    let (code, stdout, stderr) = result(&joinedup(&[
        "synth",
        "--people",
        people,
        "--years",
        "1",
        "--seed",
        seed,
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{stdout}{stderr}");
    serde_json::from_str(&std::fs::read_to_string(out.join("truth.json")).unwrap()).unwrap()
}

#[test]
fn the_same_seed_writes_the_same_bytes_and_another_seed_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    synth(&a, "3000", "7");
    synth(&b, "3000", "7");
    synth(&c, "3000", "8");
    let bytes = |d: &Path| -> BTreeMap<String, Vec<u8>> {
        files_under(d)
            .into_iter()
            .map(|p| {
                (
                    p.strip_prefix(d).unwrap().display().to_string(),
                    std::fs::read(&p).unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(bytes(&a), bytes(&b));
    assert_ne!(
        bytes(&a)["apc/apc_spells.csv"],
        bytes(&c)["apc/apc_spells.csv"]
    );
    // Only the 999 test range, and the CLD files really are Windows-1252.
    let apc = std::fs::read_to_string(a.join("apc/apc_spells.csv")).unwrap();
    assert!(
        apc.lines()
            .skip(1)
            .all(|l| l.split(',').nth(2).is_some_and(|n| n.starts_with("999")))
    );
    let cld: Vec<u8> = files_under(&a.join("cld"))
        .iter()
        .filter(|p| p.to_string_lossy().contains("cld_902_"))
        .flat_map(|p| std::fs::read(p).unwrap())
        .collect();
    assert!(
        std::str::from_utf8(&cld).is_err() && cld.contains(&0xEB),
        "Zoë in cp1252"
    );
}

/// Councils submit CLD quarterly: a file per council and quarter, each event in every
/// submission of a quarter it was active in, open (no end date, no outcome) until the
/// submission of the quarter it ended in, so the pipeline's "latest submission wins" rule
/// has something to do.
#[test]
fn cld_is_submitted_quarterly_and_events_stay_open_until_the_quarter_they_end() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (code, stdout, stderr) = result(&joinedup(&[
        "synth",
        "--people",
        "3000",
        "--years",
        "2",
        "--seed",
        "5",
        "--out",
        data.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{stdout}{stderr}");
    let mut names: Vec<String> = files_under(&data.join("cld"))
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 3 * 8, "{names:?}");
    assert_eq!(names[0], "cld_901_2024-04.csv");
    assert_eq!(names[7], "cld_901_2026-01.csv");
    // dd/mm/yyyy -> yyyy-mm-dd, so dates compare as text.
    let iso = |d: &str| format!("{}-{}-{}", &d[6..10], &d[3..5], &d[0..2]);
    // Event reference -> (period start, period end, event start, end, outcome), in
    // file order (files sorted by period).
    let mut copies: BTreeMap<String, Vec<[String; 5]>> = BTreeMap::new();
    for name in &names {
        let bytes = std::fs::read(data.join("cld").join(name)).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        let period_start = format!("{}-{}-01", &name[8..12], &name[13..15]);
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            assert_eq!(iso(f[2]), period_start, "{name}: {line}");
            // First names go by sex (they were drawn from one list for everyone).
            let (female, male) = (["Ann", "Margaret"], ["David", "Peter"]);
            match f[10] {
                "1 - Male" => assert!(!female.contains(&f[6]), "{line}"),
                "2 - Female" => assert!(!male.contains(&f[6]), "{line}"),
                other => panic!("sex {other}: {line}"),
            }
            let valid = |d: &str| d.len() == 10 && !d.starts_with("30/02");
            if !valid(f[15]) {
                continue; // an injected bad date
            }
            copies.entry(f[14].to_string()).or_default().push([
                iso(f[2]),
                iso(f[3]),
                iso(f[15]),
                if f[16] == "NULL" {
                    String::new()
                } else {
                    iso(f[16])
                },
                f[17].to_string(),
            ]);
        }
    }
    let mut open_then_closed = 0;
    for (reference, c) in &copies {
        let last = c.len() - 1;
        for (k, [from, to, start, end, outcome]) in c.iter().enumerate() {
            assert!(
                start <= to,
                "{reference}: starts after its submission's period"
            );
            assert_eq!(
                start, &c[0][2],
                "{reference}: one start date in every submission"
            );
            if k < last {
                assert!(
                    end.is_empty(),
                    "{reference}: ended before its last submission"
                );
                assert_eq!(outcome, "NULL", "{reference}");
                // Consecutive quarters.
                assert!(c[k + 1][0] > *to, "{reference}");
            } else if !end.is_empty() {
                assert!(
                    end >= from && end <= to,
                    "{reference}: {end} outside {from}..{to}"
                );
                open_then_closed += usize::from(k > 0);
            }
        }
    }
    assert!(
        open_then_closed > 10,
        "services open in one submission and closed in a later one: {open_then_closed}"
    );
}

/// Regression: a discharge could only wait for social care when the longest delay still
/// fitted before the data's end, so requests from hospital stopped about four months
/// early (a fall in demand that never happened). Now they run to the end, and a patient
/// still waiting at the end is in hospital with a ready date and no service yet.
#[test]
fn regression_requests_from_hospital_run_to_the_end_of_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (code, stdout, stderr) = result(&joinedup(&[
        "synth",
        "--people",
        "20000",
        "--years",
        "2",
        "--seed",
        "3",
        "--out",
        data.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{stdout}{stderr}");
    // Requests from hospital per submission quarter (a request starts and ends on one
    // day, so it is in one submission only).
    let mut per_quarter: BTreeMap<String, u64> = BTreeMap::new();
    for path in files_under(&data.join("cld")) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let quarter = name[8..15].to_string();
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        let requests = text
            .lines()
            .filter(|l| l.contains(",Request,") && l.contains(",Discharge from Hospital,"))
            .count() as u64;
        *per_quarter.entry(quarter).or_default() += requests;
    }
    assert_eq!(per_quarter.len(), 8, "{per_quarter:?}");
    let counts: Vec<u64> = per_quarter.values().copied().collect();
    let mean = counts.iter().sum::<u64>() as f64 / counts.len() as f64;
    let last = *counts.last().unwrap() as f64;
    assert!(
        last >= 0.8 * mean,
        "last quarter {last} against a mean of {mean}: {per_quarter:?}"
    );
    // Open spells (no discharge date) with a ready date: delays still in progress.
    let apc = std::fs::read_to_string(files_under(&data.join("apc"))[0].clone()).unwrap();
    let header: Vec<&str> = apc.lines().next().unwrap().split(',').collect();
    let at = |name: &str| header.iter().position(|h| h.contains(name)).unwrap();
    let (discharged, ready) = (
        at("Discharge Date (From Hospital Provider Spell)"),
        at("Discharge Ready Date"),
    );
    let waiting = apc
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f[discharged].is_empty() && !f[ready].is_empty())
        .count();
    assert!(waiting > 0, "no open spell has a ready date");
}

#[test]
fn the_pipeline_recovers_the_planted_delays_and_quarantines_every_injected_defect() {
    recovers_what_was_planted("42");
}

/// Regression: at seed 11 the truth counted a spell of a person the council knew only by
/// its own id (no NHS number), which no pipeline can link.
#[test]
fn the_planted_facts_are_linkable_at_another_seed_too() {
    recovers_what_was_planted("11");
}

/// Over several years of history (spells across year ends, CLD submitted over twelve
/// quarters, people ageing and dying), the pipeline still recovers exactly what was
/// planted (a review found recovery tested at one year only).
#[test]
fn the_planted_facts_are_recovered_over_three_years_of_history() {
    recovers_what_was_planted_over("7", "3", &[]);
}

/// Runs the pipeline synth wrote in `data` into `out` (a new folder), asserts it exits 0
/// (`case` names it in the failure), and returns its run's manifest. Run as of today:
/// synthetic history ends by 31 March 2026, so nothing is held back as in the future.
fn run_written_pipeline(data: &Path, out: &Path, case: &str) -> serde_json::Value {
    let (code, stdout, stderr) = result(&joinedup(&[
        "run",
        data.join("pipeline.toml").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]));
    assert_eq!(code, 0, "{case}: {stdout}{stderr}");
    only_manifest(out)
}

/// The manifest's `value_left_blank` counts of source `name`, as column → reason → count
/// (the shape of the synth truth's `left_blank`).
fn left_blank(manifest: &serde_json::Value, name: &str) -> serde_json::Value {
    let mut out: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for r in manifest["data_quality"].as_array().unwrap() {
        if r["check"] == "value_left_blank" && r["source"] == name {
            *out.entry(r["column"].as_str().unwrap().to_string())
                .or_default()
                .entry(r["reason"].as_str().unwrap().to_string())
                .or_default() += r["count"].as_u64().unwrap();
        }
    }
    serde_json::to_value(out).unwrap()
}

fn recovers_what_was_planted(seed: &str) {
    recovers_what_was_planted_over(seed, "1", &[]);
}

/// Extracts whose NHS numbers were pseudonymised upstream (`--pseudonymise`, read with
/// contracts declaring `type = "pseudonym"`): the same planted delays, links and defects
/// are recovered, a mistyped NHS number refused as ten digits in a pseudonym column.
#[test]
fn the_planted_facts_are_recovered_from_extracts_pseudonymised_upstream() {
    let (_dir, written) =
        recovers_what_was_planted_over("5", "1", &["--pseudonymise", "test-dscro"]);
    let apc = std::fs::read_to_string(written.join("apc/apc_spells.csv")).unwrap();
    let first = apc.lines().nth(1).unwrap().split(',').nth(2).unwrap();
    assert_eq!(first.len(), 64, "{first}");
    assert!(first.bytes().all(|b| b.is_ascii_hexdigit()), "{first}");
}

/// Runs synth with `more` arguments, then the pipeline it wrote, and checks the run
/// recovers what was planted; returns the folder (kept) and the data's path.
fn recovers_what_was_planted_over(
    seed: &str,
    years: &str,
    more: &[&str],
) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let (data, out) = (dir.path().join("data"), dir.path().join("out"));
    let mut args = vec!["--people", "20000", "--years", years, "--seed", seed];
    args.extend(more);
    let truth = synth_args(&data, &args);
    let manifest = run_written_pipeline(&data, &out, "");

    // Every injected defect is quarantined under its reason, and nothing else is.
    for s in manifest["sources"].as_array().unwrap() {
        let name = s["name"].as_str().unwrap();
        assert_eq!(s["rows_in"], truth["rows"][name], "{name}");
        assert_eq!(s["quarantine_reasons"], truth["defects"][name], "{name}");
        // Invalid NHS numbers in hospital and A&E rows are left blank, rows kept.
        let planted = truth["left_blank"]
            .get(name)
            .cloned()
            .unwrap_or(serde_json::json!({}));
        assert_eq!(left_blank(&manifest, name), planted, "{name}: left blank");
        // Accepted rows without an NHS number: hospital and A&E rows left blank, and
        // council clients without one (the CLD contract requires the column, not values).
        assert_eq!(
            s["without_nhs_number"],
            truth["without_nhs_number"]
                .get(name)
                .cloned()
                .unwrap_or(serde_json::json!(0)),
            "{name}: without an NHS number"
        );
    }

    // Planted delays per council and awaited service. Tolerance: the spell counts and
    // bed-days must match exactly, the medians to within half a day (none expected).
    let j = read_parquet(&out.join("restricted/patient_journey"));
    let mut groups: BTreeMap<(String, String), Vec<i64>> = BTreeMap::new();
    for i in 0..j.rows {
        let service = j.col("awaited_service")[i].clone().unwrap();
        if service != "none" {
            groups
                .entry((j.col("la_code")[i].clone().unwrap(), service))
                .or_default()
                .push(j.i64s("delay_days")[i].unwrap());
        }
    }
    let planted = truth["delays"].as_array().unwrap();
    assert_eq!(groups.len(), planted.len());
    for t in planted {
        let key = (
            t["la_code"].as_str().unwrap().to_string(),
            t["awaited_service"].as_str().unwrap().to_string(),
        );
        let got = &groups[&key];
        let median = median(got);
        assert_eq!(got.len() as u64, t["spells"].as_u64().unwrap(), "{key:?}");
        assert_eq!(
            got.iter().sum::<i64>(),
            t["delayed_bed_days"].as_i64().unwrap(),
            "{key:?}"
        );
        assert!(
            (median - t["median_delay_days"].as_f64().unwrap()).abs() <= 0.5,
            "{key:?}: {median}"
        );
    }
    // Easton's home care is the slowest service of all, as planted and as the pipeline
    // measured it (a review found this read from the truth file only).
    let measured = groups
        .iter()
        .max_by(|a, b| median(a.1).partial_cmp(&median(b.1)).unwrap())
        .map(|(k, _)| (k.0.as_str(), k.1.as_str()))
        .unwrap();
    assert_eq!(measured, ("902", "home_care"));
    let slowest = planted
        .iter()
        .max_by(|a, b| {
            a["median_delay_days"]
                .as_f64()
                .partial_cmp(&b["median_delay_days"].as_f64())
                .unwrap()
        })
        .unwrap();
    assert_eq!(
        (
            slowest["la_code"].as_str(),
            slowest["awaited_service"].as_str()
        ),
        (Some("902"), Some("home_care"))
    );
    let linked = j
        .col("ed_attendance_id")
        .iter()
        .filter(|v| v.is_some())
        .count() as u64;
    assert_eq!(linked, truth["ed_linked_spells"].as_u64().unwrap());
    (dir, data)
}

/// Regression (found by a review): `--people 1` printed "wrote 0 rows ()": a source
/// with no rows was missing from the counts. Every source is counted, 0 or not.
#[test]
fn regression_a_tiny_population_counts_every_source_even_at_zero() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (code, stdout, stderr) = result(&joinedup(&[
        "synth",
        "--people",
        "1",
        "--out",
        data.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("wrote 0 rows (apc 0, cld 0, ecds 0) in "),
        "{stdout}"
    );
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("truth.json")).unwrap()).unwrap();
    assert_eq!(
        truth["rows"],
        serde_json::json!({"apc": 0, "cld": 0, "ecds": 0})
    );
}

/// Regression: bad arguments were accepted (`--people 0`, `--defect-rate 2` or `NaN`,
/// `--years 100000`), wrote a pipeline pointing at a missing `schemas/` when run outside
/// a checkout, or stopped as "internal error (a bug)" (`--people 909091`), exit 5.
#[test]
fn regression_bad_arguments_are_usage_errors_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let file = dir.path().join("afile");
    std::fs::write(&file, "x").unwrap();
    let o = out.to_str().unwrap();
    let cases: [(&[&str], &str); 7] = [
        (
            &["--people", "0", "--out", o],
            "--people must be at least 1",
        ),
        (
            &["--years", "100000", "--out", o],
            "--years must be 1 to 50",
        ),
        (
            &["--defect-rate", "2", "--out", o],
            "--defect-rate must be a share from 0 to 1, not 2",
        ),
        (
            &["--defect-rate", "NaN", "--out", o],
            "--defect-rate must be a share from 0 to 1, not NaN",
        ),
        (
            &["--people", "909091", "--out", o],
            "--people 909091 is more than the 909090 valid NHS numbers",
        ),
        (
            &["--out", file.to_str().unwrap()],
            "afile: is a file, not a folder",
        ),
        (
            &["--out", o, "--repo", dir.path().to_str().unwrap()],
            "has no schemas/ and pipelines/mappings/",
        ),
    ];
    for (args, message) in cases {
        let mut all = vec!["synth"];
        all.extend_from_slice(args);
        let (code, _, stderr) = result(&joinedup(&all));
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(!out.exists(), "{args:?} wrote {}", out.display());
    }
}

/// The ECDS rows of a synth folder: (NHS number, sex, arrival, departure).
fn attendances(dir: &Path) -> Vec<[String; 4]> {
    let text = std::fs::read_to_string(dir.join("ecds/ecds_attendances.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.trim_end().split(',').collect();
            [f[1], f[6], f[8], f[11]].map(String::from)
        })
        .collect()
}

/// Regressions in the generated population: at small seeds one person's random stream was
/// another's a few draws on, so people shared whole A&E histories (18 % of rows at seed
/// 1); another --defect-rate gave another population; a person's sex was drawn afresh
/// on every attendance; people attended A&E after dying in hospital.
#[test]
fn people_are_their_own_and_the_same_at_any_defect_rate() {
    let dir = tempfile::tempdir().unwrap();
    let clean = dir.path().join("clean");
    let dirty = dir.path().join("dirty");
    for (out, rate) in [(&clean, "0"), (&dirty, "0.2")] {
        let (code, _, stderr) = result(&joinedup(&[
            "synth",
            "--people",
            "5000",
            "--years",
            "2",
            "--seed",
            "1",
            "--defect-rate",
            rate,
            "--out",
            out.to_str().unwrap(),
        ]));
        assert_eq!(code, 0, "{stderr}");
    }
    let rows = attendances(&clean);
    // Shared (arrival, departure) minutes between different people: chance alone.
    let mut by_times: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for r in &rows {
        by_times.entry((&r[2], &r[3])).or_default().push(&r[0]);
    }
    let shared = by_times
        .values()
        .filter(|people| people.iter().any(|p| *p != people[0]))
        .map(Vec::len)
        .sum::<usize>();
    assert!(
        shared * 200 < rows.len(),
        "{shared} of {} rows shared",
        rows.len()
    );
    // One sex per person.
    let mut sex: BTreeMap<&str, &str> = BTreeMap::new();
    for r in &rows {
        assert_eq!(
            *sex.entry(&r[0]).or_insert(&r[1]),
            r[1].as_str(),
            "{}",
            r[0]
        );
    }
    // Nobody attends after an in-hospital death (discharge method 4).
    let apc = std::fs::read_to_string(clean.join("apc/apc_spells.csv")).unwrap();
    let mut died: BTreeMap<String, String> = BTreeMap::new();
    for l in apc.lines().skip(1) {
        let f: Vec<&str> = l.split(',').collect();
        if f[13] == "4" {
            let (d, m, y) = (&f[11][0..2], &f[11][3..5], &f[11][6..10]);
            died.insert(f[2].to_string(), format!("{y}-{m}-{d}"));
        }
    }
    assert!(!died.is_empty());
    for r in &rows {
        if let Some(day) = died.get(&r[0]) {
            assert!(
                r[2][..10] <= **day,
                "{} attended on {} after dying on {day}",
                r[0],
                r[2]
            );
        }
    }
    // The same people and events at another defect rate: same rows, same truth.
    for f in [
        "apc/apc_spells.csv",
        "ecds/ecds_attendances.csv",
        "cld/cld_901_2024-04.csv",
        "cld/cld_901_2025-01.csv",
    ] {
        let lines = |d: &Path| std::fs::read(d.join(f)).map(|b| b.split(|&c| c == b'\n').count());
        assert_eq!(lines(&clean).unwrap(), lines(&dirty).unwrap(), "{f}");
    }
    let truth = |d: &Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(d.join("truth.json")).unwrap()).unwrap()
    };
    let (a, b) = (truth(&clean), truth(&dirty));
    for key in ["delays", "ed_linked_spells", "social_care_linked_spells"] {
        assert_eq!(a[key], b[key], "{key}");
    }
}

/// Regression: synth wrote into a folder holding other files, and the pipeline it wrote
/// read them too (8,105 APC rows against 746 in the truth).
#[test]
fn synth_refuses_a_folder_holding_other_files_and_replaces_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(out.join("apc")).unwrap();
    std::fs::write(out.join("apc/apc_2023.csv"), "x").unwrap();
    let args = |o: &Path| {
        vec![
            "synth".to_string(),
            "--people".into(),
            "200".into(),
            "--out".into(),
            o.to_str().unwrap().to_string(),
        ]
    };
    let run = |o: &Path| {
        let a = args(o);
        result(&joinedup(&a.iter().map(String::as_str).collect::<Vec<_>>()))
    };
    let (code, _, stderr) = run(&out);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("holds files synth did not write"),
        "{stderr}"
    );
    let fresh = dir.path().join("fresh");
    assert_eq!(run(&fresh).0, 0);
    // An earlier synth's folder is written again, its extracts replaced.
    std::fs::write(fresh.join("apc/stale.csv"), "x").unwrap();
    assert_eq!(run(&fresh).0, 0, "synth's own folder");
    assert!(!fresh.join("apc/stale.csv").exists());
}

/// Regression (analytics review): at 30,000 people (seed 3) a person had two A&E
/// attendances at once: the wait before a second admission began before the first stay
/// ended, so the pipeline linked the admission to the attendance still running and lost
/// a planted link (2,355 linked, truth 2,356). A person is in one place at a time.
#[test]
fn regression_no_person_is_in_two_attendances_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s");
    let (code, stdout, stderr) = result(&joinedup(&[
        "synth",
        "--people",
        "30000",
        "--years",
        "1",
        "--seed",
        "3",
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{stdout}{stderr}");
    let minutes = |s: &str| -> Option<i64> {
        let (date, time) = s.split_once(' ')?;
        let d: Vec<i64> = date
            .split('-')
            .map(|x| x.parse().ok())
            .collect::<Option<_>>()?;
        let t: Vec<i64> = time
            .split(':')
            .map(|x| x.parse().ok())
            .collect::<Option<_>>()?;
        let days = i64::from(joinedup::ingest::dates::days_from_civil(
            i32::try_from(*d.first()?).ok()?,
            u32::try_from(*d.get(1)?).ok()?,
            u32::try_from(*d.get(2)?).ok()?,
        ));
        Some(days * 1440 + t.first()? * 60 + t.get(1)?)
    };
    let mut by_person: BTreeMap<String, Vec<(i64, i64)>> = BTreeMap::new();
    for [nhs, _, arrival, departure] in attendances(&out) {
        // Defects planted in dates are left out.
        if let (Some(a), Some(d)) = (minutes(&arrival), minutes(&departure)) {
            by_person.entry(nhs).or_default().push((a, d));
        }
    }
    let mut overlaps = 0;
    for stays in by_person.values_mut() {
        stays.sort_unstable();
        overlaps += stays.windows(2).filter(|w| w[1].0 < w[0].1).count();
    }
    assert_eq!(overlaps, 0);
}

/// Runs `joinedup synth` with `args` into `out`; returns the truth.
fn synth_args(out: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["synth", "--out", out.to_str().unwrap()];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = result(&joinedup(&all));
    assert_eq!(code, 0, "{args:?}: {stdout}{stderr}");
    serde_json::from_str(&std::fs::read_to_string(out.join("truth.json")).unwrap()).unwrap()
}

/// The APC rows of a synth folder, split into fields, and a column finder by header.
fn apc_rows(dir: &Path) -> (Vec<Vec<String>>, impl Fn(&str) -> usize) {
    let text = std::fs::read_to_string(dir.join("apc/apc_spells.csv")).unwrap();
    let header: Vec<String> = text
        .lines()
        .next()
        .unwrap()
        .split(',')
        .map(String::from)
        .collect();
    let rows = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    (rows, move |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    })
}

/// `dd/mm/yyyy` and `hh:mm:ss` as `yyyy-mm-dd hh:mm`, so they compare as text.
fn iso_minute(date: &str, time: &str) -> String {
    format!(
        "{}-{}-{} {}",
        &date[6..10],
        &date[3..5],
        &date[0..2],
        &time[..5]
    )
}

/// Regression (review): the discharge time was drawn from 10:00-18:00 whatever the
/// admission's, so 9,708 of 107,184 spells at 200,000 people (seed 7) left the day they
/// came before they came (an elective day case admitted at 11:00 out at 10:33; an
/// admission from A&E at 19:38 out at 13:13, before the A&E departure). A stay ending the
/// day it began ends after its admission, and so after the A&E departure before it.
#[test]
fn regression_a_same_day_discharge_is_never_before_the_admission() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    synth_args(
        &data,
        &[
            "--people",
            "20000",
            "--years",
            "1",
            "--seed",
            "7",
            "--defect-rate",
            "0",
        ],
    );
    let (rows, at) = apc_rows(&data);
    let (sd, st, dd, dt, method) = (
        at("Start Date (Hospital Provider Spell)"),
        at("Start Time (Hospital Provider Spell)"),
        at("Discharge Date (From Hospital Provider Spell)"),
        at("Discharge Time (Hospital Provider Spell)"),
        at("Admission Method (Hospital Provider Spell)"),
    );
    let same_day: Vec<&Vec<String>> = rows.iter().filter(|f| f[sd] == f[dd]).collect();
    let before: Vec<String> = same_day
        .iter()
        .filter(|f| f[dt] < f[st])
        .map(|f| f.join(","))
        .collect();
    assert!(same_day.len() > 1000, "{} same-day spells", same_day.len());
    assert_eq!(before, Vec::<String>::new());
    // Admissions via A&E (method 21) end after the attendance that led to them: its
    // departure is in the hour before the admission.
    let mut departures: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let ecds = std::fs::read_to_string(data.join("ecds/ecds_attendances.csv")).unwrap();
    for l in ecds.lines().skip(1) {
        let f: Vec<&str> = l.trim_end().split(',').collect();
        if !f[9].is_empty() {
            departures
                .entry(f[1].to_string())
                .or_default()
                .push(f[11].to_string());
        }
    }
    let nhs = at("NHS Number");
    let mut checked = 0;
    for f in rows
        .iter()
        .filter(|f| f[method] == "21" && !f[dd].is_empty())
    {
        let admitted = iso_minute(&f[sd], &f[st]);
        let discharged = iso_minute(&f[dd], &f[dt]);
        // The attendance whose departure is latest at or before the admission.
        let departed = departures[&f[nhs]]
            .iter()
            .filter(|d| **d <= admitted)
            .max()
            .unwrap();
        assert!(
            discharged >= *departed,
            "{}: left A&E {departed}",
            f.join(",")
        );
        checked += 1;
    }
    assert!(checked > 1000, "{checked}");
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    files_under(dir)
        .into_iter()
        .map(|p| {
            (
                p.strip_prefix(dir).unwrap().display().to_string(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

/// Regression (review): `--people 909091` into an earlier synth's folder removed its
/// apc/, ecds/ and cld/ before refusing the number, leaving a truth.json and a
/// pipeline.toml that described extracts no longer there. Every option is checked before
/// anything is touched.
#[test]
fn regression_too_many_people_leaves_an_earlier_synth_folder_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    synth_args(&data, &["--people", "200", "--seed", "4"]);
    let before = snapshot(&data);
    assert!(before.contains_key("apc/apc_spells.csv"));
    let (code, _, stderr) = result(&joinedup(&[
        "synth",
        "--people",
        "909091",
        "--out",
        data.to_str().unwrap(),
    ]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(
            "--people 909091 is more than the 909090 valid NHS numbers of the 999 test range"
        ),
        "{stderr}"
    );
    assert_eq!(snapshot(&data), before);
    // The largest population is accepted (checked here without writing it: with a file
    // for --out every other option is still checked, and only the folder is refused).
    let file = dir.path().join("afile");
    std::fs::write(&file, "x").unwrap();
    let (code, _, stderr) = result(&joinedup(&[
        "synth",
        "--people",
        "909090",
        "--out",
        file.to_str().unwrap(),
    ]));
    assert_eq!(code, 2, "{stderr}");
    assert!(!stderr.contains("--people"), "{stderr}");
}

/// The CLD rows of a synth folder, every submission, split into fields.
fn cld_rows(dir: &Path) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for path in files_under(&dir.join("cld")) {
        let bytes = std::fs::read(&path).unwrap();
        let (text, _, _) = encoding_rs::WINDOWS_1252.decode(&bytes);
        rows.extend(
            text.lines()
                .skip(1)
                .map(|l| l.split(',').map(String::from).collect::<Vec<_>>()),
        );
    }
    rows
}

/// `dd/mm/yyyy` as `yyyy-mm-dd`.
fn iso_day(d: &str) -> String {
    format!("{}-{}-{}", &d[6..10], &d[3..5], &d[0..2])
}

/// 3,000 people over 50 years (seed 3, no defects), generated once for the tests of a
/// long history.
fn fifty_years() -> &'static Path {
    static DATA: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DATA.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        synth_args(
            dir.path(),
            &[
                "--people",
                "3000",
                "--years",
                "50",
                "--seed",
                "3",
                "--defect-rate",
                "0",
            ],
        );
        dir
    })
    .path()
}

/// Regression (review): long-term support arranged at a hospital discharge (home care, a
/// care home) was written with no end, so it never ended, not even when the person later
/// died in hospital; over `--years 50` (3,000 people, seed 3) each such service was in
/// every quarterly submission to the end, 63 copies a service on average and up to 200,
/// 39,513 of 40,899 CLD rows. Now it lasts about three years, like a known client's, and
/// everything a person has running ends at their death.
#[test]
fn regression_long_term_support_from_hospital_ends_and_nothing_outlives_a_death() {
    let data = fifty_years();
    let (apc, at) = apc_rows(data);
    let (nhs, dd, method) = (
        at("NHS Number"),
        at("Discharge Date (From Hospital Provider Spell)"),
        at("Discharge Method (Hospital Provider Spell)"),
    );
    let died: BTreeMap<String, String> = apc
        .iter()
        .filter(|f| f[method] == "4")
        .map(|f| (f[nhs].clone(), iso_day(&f[dd])))
        .collect();
    assert!(died.len() > 50, "{} deaths", died.len());
    let cld = cld_rows(data);
    // CLD fields: 2 period start, 4 NHS number, 13 event type, 14 reference, 15 start,
    // 16 end, 17 outcome, 19 service type.
    let mut after_death = Vec::new();
    let mut copies: BTreeMap<&str, u64> = BTreeMap::new();
    let mut ended_from_the_window = 0;
    for f in &cld {
        if let Some(day) = died.get(&f[4]) {
            // No submission after the death's quarter holds the person, and in the
            // death's own every event has ended by the death.
            let (from, to) = (iso_day(&f[2]), iso_day(&f[3]));
            let in_death_quarter = from <= *day && *day <= to;
            if from > *day || (in_death_quarter && (f[16] == "NULL" || iso_day(&f[16]) > *day)) {
                after_death.push(format!("died {day}: {}", f.join(",")));
            }
        }
        if f[13] == "Service" {
            *copies.entry(&f[14]).or_default() += 1;
            // From the first day of the fifty years (they end in March 2026).
            if f[19].starts_with("Long Term Support")
                && iso_day(&f[15]).as_str() >= "1976-04-01"
                && f[17] == "Service ended as planned"
            {
                ended_from_the_window += 1;
            }
        }
    }
    assert_eq!(after_death, Vec::<String>::new());
    assert!(ended_from_the_window > 50, "{ended_from_the_window}");
    // About three years a service: a dozen quarterly copies on average, none in all 200.
    let mean = copies.values().sum::<u64>() as f64 / copies.len() as f64;
    let most = *copies.values().max().unwrap();
    assert!(mean < 16.0, "{mean} copies a service");
    assert!(most < 120, "{most} copies of one service");
}

/// Regression (known limit, sessions 19-21): the councils' long-term clients known at the
/// start were never replaced as their services ended (about three years each), so the
/// clients in long-term support fell year by year: at 20,000 people over 16 years (seed
/// 5), 808 in the first April submission and 207 in the last, and CLD thinned from a fifth
/// of the input rows to an eighth. New clients now come to the councils through the years
/// (a community referral: request, assessment, service) at the rate that keeps the share
/// of adults in long-term support where it starts, and never near a stay, so the planted
/// delays stay the only services a spell waited for.
#[test]
fn regression_council_clients_are_replaced_as_their_services_end() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    synth_args(
        &data,
        &["--people", "20000", "--years", "16", "--seed", "5"],
    );
    // CLD fields: 2 period start, 5 council person id, 13 event type, 18 request route,
    // 19 service type.
    let cld = cld_rows(&data);
    let mut clients: BTreeMap<String, std::collections::BTreeSet<&str>> = BTreeMap::new();
    let mut community_requests: std::collections::BTreeSet<&str> = Default::default();
    for f in &cld {
        let period = iso_day(&f[2]);
        if f[13] == "Service" && f[19].starts_with("Long Term Support") {
            clients.entry(period.clone()).or_default().insert(&f[5]);
        }
        if f[13] == "Request" && f[18] == "Community/Other route" && period.as_str() >= "2011-04-01"
        {
            community_requests.insert(&f[5]);
        }
    }
    let first = clients["2010-04-01"].len() as f64;
    let last = clients["2025-04-01"].len() as f64;
    assert!(first > 600.0, "{first} clients in the first April");
    assert!(
        (0.8..1.25).contains(&(last / first)),
        "{last} clients in the last April against {first} in the first"
    );
    // Clients who came after the first year, by a referral of their own.
    assert!(
        community_requests.len() > 1000,
        "{} clients referred after the first year",
        community_requests.len()
    );
}

/// Regression (review, session 18): the oldest age band was 80-100 drawn evenly, so 1 %
/// of A&E attendances were by people aged 100 or more (England: about 0.03 % of people);
/// gynaecology went to men as often as to women; and an emergency transfer from another
/// provider (2B) came "from home" (19). Ages now thin out past 80, treatment functions
/// follow sex and age, and a 2B admission comes from another hospital's ward (51).
#[test]
fn regression_ages_thin_out_past_80_and_codes_agree_with_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    synth(&data, "20000", "5");
    let ecds = std::fs::read_to_string(data.join("ecds/ecds_attendances.csv")).unwrap();
    let ages: Vec<i64> = ecds
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(5).unwrap().parse().unwrap())
        .collect();
    let share =
        |f: &dyn Fn(i64) -> bool| ages.iter().filter(|&&a| f(a)).count() as f64 / ages.len() as f64;
    let (eighties, nineties, hundreds) = (
        share(&|a| (80..90).contains(&a)),
        share(&|a| (90..100).contains(&a)),
        share(&|a| a >= 100),
    );
    assert!(ages.len() > 5000, "{}", ages.len());
    assert!(eighties > 2.0 * nineties, "{eighties} {nineties}");
    assert!(nineties > 0.005 && nineties < 0.05, "{nineties}");
    assert!(hundreds < 0.002, "{hundreds}");
    let (apc, at) = apc_rows(&data);
    let (sex, method, source, treatment) = (
        at("Sex"),
        at("Admission Method (Hospital Provider Spell)"),
        at("Source of Admission (Hospital Provider Spell)"),
        at("Treatment Function Code"),
    );
    let gynaecology = |s: &str| {
        apc.iter()
            .filter(|f| f[treatment] == "502" && f[sex] == s)
            .count()
    };
    assert_eq!(gynaecology("1"), 0);
    assert!(gynaecology("2") > 20, "{}", gynaecology("2"));
    let transfers: Vec<&str> = apc
        .iter()
        .filter(|f| f[method] == "2B")
        .map(|f| f[source].as_str())
        .collect();
    assert!(transfers.len() > 10, "{}", transfers.len());
    assert!(transfers.iter().all(|s| *s == "51"), "{transfers:?}");
}

/// Regression (review): ages were fixed at the start and nobody died outside hospital, so
/// over `--years 50` (3,000 people, seed 3) people went on attending A&E past 150, 2,895
/// attendances at 120 or more, and were admitted at the rates of their starting age.
/// People now age (every rate and rule goes by their age on the day, the same age ECDS
/// gives and the councils' dates of birth imply) and die by age-dependent mortality, in
/// hospital or outside it, nobody past 105; after a death there is nothing in any source
/// (on its day, only the stay they die in and the attendance that led to it: a test that
/// allowed nothing on the day failed once the age mix changed, on people admitted and
/// dying the same day, which is no defect).
#[test]
fn regression_people_age_and_die_so_nobody_passes_105() {
    let data = fifty_years();
    let ecds = std::fs::read_to_string(data.join("ecds/ecds_attendances.csv")).unwrap();
    // NHS number -> (arrival, age at arrival).
    let mut arrivals: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
    for l in ecds.lines().skip(1) {
        let f: Vec<&str> = l.trim_end().split(',').collect();
        arrivals
            .entry(f[1].to_string())
            .or_default()
            .push((f[8][..10].to_string(), f[5].parse().unwrap()));
    }
    let oldest = arrivals.values().flatten().map(|a| a.1).max().unwrap();
    let over_105 = arrivals.values().flatten().filter(|a| a.1 > 105).count();
    assert_eq!(over_105, 0, "oldest {oldest}");
    assert!(oldest >= 100, "oldest {oldest}");
    // The age at arrival is the age the council's date of birth gives on that day.
    let cld = cld_rows(data);
    let born: BTreeMap<&str, String> = cld
        .iter()
        .map(|f| (f[4].as_str(), iso_day(&f[8])))
        .collect();
    let age_on = |born: &str, on: &str| -> i64 {
        let year = |d: &str| d[..4].parse::<i64>().unwrap();
        year(on) - year(born) - i64::from(on[5..] < born[5..])
    };
    let mut compared = 0;
    for (nhs, list) in &arrivals {
        if let Some(b) = born.get(nhs.as_str()) {
            for (day, age) in list {
                assert_eq!(age_on(b, day), *age, "{nhs} born {b} arriving {day}");
                compared += 1;
            }
        }
    }
    assert!(compared > 1000, "{compared}");
    // A death outside hospital ends the person's services ('NFA - Deceased') and nothing
    // of theirs happens after it, in any source.
    // On the day of death itself, only the stay they die in (admitted and dying that
    // day), and the attendance that brought them to it.
    let (apc, at) = apc_rows(data);
    let (nhs, admitted) = (at("NHS Number"), at("Start Date (Hospital Provider Spell)"));
    let (discharged, how) = (
        at("Discharge Date (From Hospital Provider Spell)"),
        at("Discharge Method (Hospital Provider Spell)"),
    );
    let mut died: BTreeMap<&str, String> = BTreeMap::new();
    for f in cld.iter().filter(|f| f[17] == "NFA - Deceased") {
        died.insert(&f[4], iso_day(&f[16]));
    }
    assert!(died.len() > 50, "{} deaths known to councils", died.len());
    let mut after = Vec::new();
    let mut fatal_on_the_day = std::collections::BTreeSet::new();
    for f in &apc {
        let Some(d) = died.get(f[nhs].as_str()) else {
            continue;
        };
        let day = iso_day(&f[admitted]);
        let dies_in_it = f[how] == "4" && iso_day(&f[discharged]) == *d;
        if day == *d && dies_in_it {
            fatal_on_the_day.insert(f[nhs].as_str());
        } else if day >= *d {
            after.push(format!("died {d}: {}", f.join(",")));
        }
    }
    for (n, list) in &arrivals {
        if let Some(d) = died.get(n.as_str()) {
            after.extend(
                list.iter()
                    .filter(|(day, _)| {
                        day > d || (day == d && !fatal_on_the_day.contains(n.as_str()))
                    })
                    .map(|(day, _)| format!("{n} died {d}, attended {day}")),
            );
        }
    }
    assert_eq!(after, Vec::<String>::new());
    // A closed cohort that ages and dies: fewer people are seen in the last year than in
    // the first.
    let seen_in = |year: &str| {
        arrivals
            .values()
            .filter(|l| l.iter().any(|(day, _)| day.starts_with(year)))
            .count()
    };
    assert!(
        seen_in("2073") < seen_in("2025"),
        "{} {}",
        seen_in("2073"),
        seen_in("2025")
    );
}

/// Regression (review): the pipeline synth wrote failed on small populations. With
/// `--people 1` or `3` a source had no rows and `run` stopped with exit 3, as the pipeline
/// never set `allow_empty`; at `--people 500 --years 2 --seed 33` CLD was 6.7 %
/// quarantined against the 5 % threshold (9 of 134 rows), as a defect drawn once for an
/// event was copied into each of its quarterly submissions. Defects are now drawn per
/// submitted row, a source with no rows may be empty, and the threshold is at least the
/// largest planted share; what is quarantined is still exactly what the truth says.
/// Regression (review, session 18): the pipeline's threshold of rows without an NHS
/// number stayed at its default 10 %, so `--people 10 --seed 74` (one A&E row, its
/// planted NHS number invalid, left blank) and `--defect-rate 0.5` exited 1; it is now
/// at least the largest planted share too.
#[test]
fn regression_the_written_pipeline_runs_cleanly_at_any_population() {
    let dir = tempfile::tempdir().unwrap();
    for (people, years, seed, rate) in [
        ("1", "1", "1", "0.01"),
        ("3", "1", "1", "0.01"),
        ("10", "1", "1", "0.01"),
        ("10", "1", "74", "0.01"),
        ("500", "2", "10", "0.01"),
        ("500", "2", "33", "0.01"),
        ("2000", "1", "1", "0.5"),
    ] {
        let case = format!("{people}-{years}-{seed}-{rate}");
        let (data, out) = (
            dir.path().join(format!("data-{case}")),
            dir.path().join(format!("out-{case}")),
        );
        let truth = synth_args(
            &data,
            &[
                "--people",
                people,
                "--years",
                years,
                "--seed",
                seed,
                "--defect-rate",
                rate,
            ],
        );
        let pipeline = std::fs::read_to_string(data.join("pipeline.toml")).unwrap();
        for source in ["apc", "ecds", "cld"] {
            let section = pipeline
                .split("\n[")
                .find(|s| s.starts_with(&format!("sources.{source}]")))
                .unwrap();
            assert_eq!(
                section.contains("allow_empty = true"),
                truth["rows"][source] == 0,
                "{case} {source}: {section}"
            );
        }
        let manifest = run_written_pipeline(&data, &out, &case);
        for s in manifest["sources"].as_array().unwrap() {
            let name = s["name"].as_str().unwrap();
            assert_eq!(s["rows_in"], truth["rows"][name], "{case} {name}");
            let planted = truth["defects"]
                .get(name)
                .cloned()
                .unwrap_or(serde_json::json!({}));
            assert_eq!(s["quarantine_reasons"], planted, "{case} {name}");
            let blank = truth["left_blank"]
                .get(name)
                .cloned()
                .unwrap_or(serde_json::json!({}));
            assert_eq!(
                left_blank(&manifest, name),
                blank,
                "{case} {name}: left blank"
            );
        }
    }
}

/// Regression (review): an admission via A&E on the data's first day could have its A&E
/// arrival the evening before, a stray attendance in a month before the window (3 at
/// 20,000 people, seed 2). Such an admission is an emergency not via A&E instead.
#[test]
fn regression_no_attendance_arrives_before_the_first_day() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    synth_args(&data, &["--people", "20000", "--seed", "2"]);
    let early: Vec<[String; 4]> = attendances(&data)
        .into_iter()
        .filter(|a| a[2].as_str() < "2024-04-01")
        .collect();
    assert_eq!(early, Vec::<[String; 4]>::new());
    // Admissions via A&E on the first day are still there.
    let (apc, at) = apc_rows(&data);
    let (sd, method) = (
        at("Start Date (Hospital Provider Spell)"),
        at("Admission Method (Hospital Provider Spell)"),
    );
    let first_day_via_ae = apc
        .iter()
        .filter(|f| f[sd] == "01/04/2024" && f[method] == "21")
        .count();
    assert!(first_day_via_ae > 0);
}

/// Regression (review): truth.json and the pipeline's header named the seed, people and
/// years but not `--defect-rate`, so data made at another rate could not be recreated
/// from them. The header's command now writes the same bytes again.
#[test]
fn regression_the_defect_rate_is_recorded_so_the_data_can_be_recreated() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let truth = synth_args(
        &a,
        &[
            "--people",
            "300",
            "--years",
            "2",
            "--seed",
            "9",
            "--defect-rate",
            "0.2",
        ],
    );
    assert_eq!(truth["defect_rate"], 0.2);
    let pipeline = std::fs::read_to_string(a.join("pipeline.toml")).unwrap();
    let first = pipeline.lines().next().unwrap();
    assert_eq!(
        first,
        "# Written by `joinedup synth --people 300 --years 2 --seed 9 --defect-rate 0.2`:"
    );
    let command = first.split('`').nth(1).unwrap();
    let args: Vec<&str> = command.split(' ').skip(2).collect();
    synth_args(&b, &args);
    assert_eq!(snapshot(&a), snapshot(&b));
}

/// Regression (review): `--defect-rate -0.1` was refused by the argument parser as
/// "unexpected argument '-0' found" instead of with the rate's range; and `--help` did
/// not say that `--years` is at most 50.
#[test]
fn regression_a_negative_defect_rate_is_refused_with_the_range_and_help_gives_the_years_limit() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let (code, _, stderr) = result(&joinedup(&[
        "synth",
        "--defect-rate",
        "-0.1",
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--defect-rate must be a share from 0 to 1, not -0.1"),
        "{stderr}"
    );
    assert!(!out.exists());
    let (code, stdout, _) = result(&joinedup(&["synth", "--help"]));
    assert_eq!(code, 0);
    let words = stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains(
            "Years of activity (at most 50): from April 2024, or, for more than two, the years to March 2026"
        ),
        "{stdout}"
    );
}
