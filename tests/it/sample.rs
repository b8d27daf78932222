//! The sample pipeline end to end: row accounting, quarantine reasons, planted facts,
//! disclosure control, no identifiers in the outputs, and deterministic output files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;

use crate::util::*;

/// Runs the sample pipeline once into a temporary directory shared by these tests.
fn sample_out() -> &'static Path {
    static OUT: OnceLock<tempfile::TempDir> = OnceLock::new();
    OUT.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let o = joinedup(&["run", "--out", dir.path().to_str().unwrap()]);
        let (code, stdout, stderr) = result(&o);
        assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
        dir
    })
    .path()
}

fn manifest(out: &Path) -> serde_json::Value {
    only_manifest(out)
}

/// Source, rows in, rows quarantined, quarantined per reason.
type Expected = (&'static str, u64, u64, &'static [(&'static str, u64)]);

#[test]
fn every_row_is_published_or_quarantined_and_counts_match_the_planted_defects() {
    let m = manifest(sample_out());
    let truth = truth();
    // Pinned exact values (also in data-samples/README.md), then checked against truth.json.
    let expected: [Expected; 3] = [
        (
            "apc",
            1600,
            11,
            &[
                ("date_order", 3),
                ("invalid_date", 3),
                ("missing_required", 2),
                ("unknown_code", 3),
            ],
        ),
        (
            "cld",
            1463,
            13,
            &[
                ("date_order", 2),
                ("invalid_date", 3),
                ("missing_required", 1),
                ("nhs_number_invalid", 3),
                ("unknown_code", 4),
            ],
        ),
        (
            "ecds",
            2200,
            8,
            &[("date_order", 2), ("invalid_date", 3), ("unknown_code", 3)],
        ),
    ];
    let sources = m["sources"].as_array().unwrap();
    assert_eq!(sources.len(), 3);
    for ((name, rows, quarantined, reasons), s) in expected.iter().zip(sources) {
        assert_eq!(s["name"], *name);
        assert_eq!(s["rows_in"], *rows, "{name}");
        assert_eq!(s["quarantined"], *quarantined, "{name}");
        assert_eq!(s["accepted"], rows - quarantined, "{name}");
        let got: BTreeMap<String, u64> =
            serde_json::from_value(s["quarantine_reasons"].clone()).unwrap();
        let want: BTreeMap<String, u64> =
            reasons.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        assert_eq!(got, want, "{name}");
        let t = &truth[*name];
        assert_eq!(t["rows"], *rows);
        let t_reasons: BTreeMap<String, u64> =
            serde_json::from_value(t["quarantined"].clone()).unwrap();
        assert_eq!(t_reasons, want, "truth.json disagrees for {name}");
        // Per file, rows add up too.
        let files = s["files"].as_array().unwrap();
        let sum = |k: &str| files.iter().map(|f| f[k].as_u64().unwrap()).sum::<u64>();
        assert_eq!(sum("rows_in"), sum("accepted") + sum("quarantined"));
        // Per file reasons, which add up to the source's (regression: the manifest had
        // per-file rows but no per-file reasons, though the README promised them).
        let mut by_file: BTreeMap<String, u64> = BTreeMap::new();
        for f in files {
            let r: BTreeMap<String, u64> =
                serde_json::from_value(f["quarantine_reasons"].clone()).unwrap();
            for (k, v) in r {
                *by_file.entry(k).or_default() += v;
            }
        }
        assert_eq!(by_file, want, "{name}: per-file reasons");
        // Values left blank (rows accepted), per column and reason, as planted.
        let mut blanked: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        for r in m["data_quality"].as_array().unwrap() {
            if r["check"] == "value_left_blank" && r["source"] == *name {
                *blanked
                    .entry(r["column"].as_str().unwrap().to_string())
                    .or_default()
                    .entry(r["reason"].as_str().unwrap().to_string())
                    .or_default() += r["count"].as_u64().unwrap();
            }
        }
        let t_blanked: BTreeMap<String, BTreeMap<String, u64>> =
            serde_json::from_value(t["left_blank"].clone()).unwrap();
        assert_eq!(blanked, t_blanked, "{name}: values left blank");
    }
    // Pinned: APC 5 NHS numbers and 2 ready dates after discharge; ECDS 4 NHS numbers.
    assert_eq!(
        m["data_quality"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["check"] == "value_left_blank")
            .map(|r| r["count"].as_u64().unwrap())
            .sum::<u64>(),
        11
    );

    // The restricted entities hold exactly the accepted rows.
    let out = sample_out();
    for (dataset, rows) in [
        ("hospital_spell", 1589),
        ("ed_attendance", 2192),
        ("social_care_event", 1450),
        ("patient_journey", 1589),
    ] {
        let t = read_parquet(&out.join(format!("restricted/{dataset}")));
        assert_eq!(t.rows, rows, "{dataset}");
    }
}

#[test]
fn quarantine_files_name_row_line_and_reason() {
    let out = sample_out();
    let q = read_parquet(&out.join("quarantine/apc"));
    assert_eq!(q.rows, 11);
    assert_eq!(
        q.names,
        [
            "source", "file", "line", "row", "reasons", "detail", "record"
        ]
    );
    let apc_csv =
        std::fs::read_to_string(root().join("data-samples/apc/apc_spells_2026Q3.csv")).unwrap();
    let lines: Vec<&str> = apc_csv.lines().collect();
    for i in 0..q.rows {
        let r = q.row(i);
        assert_eq!(r["source"], Some("apc"));
        assert_eq!(r["file"], Some("apc_spells_2026Q3.csv"));
        let line: usize = r["line"].unwrap().parse().unwrap();
        let row: usize = r["row"].unwrap().parse().unwrap();
        assert_eq!(line, row + 1, "one header line, no multi-line records");
        let text = lines[line - 1];
        let detail = r["detail"].unwrap();
        match r["reasons"].unwrap() {
            "unknown_code" => {
                assert!(text.contains(",X9,"), "line {line}: {text}");
                assert!(
                    detail.contains("Admission Method (Hospital Provider Spell)")
                        && detail.contains("\"X9\""),
                    "{detail}"
                );
            }
            "missing_required" => {
                assert!(text.starts_with(','), "line {line}");
                assert_eq!(detail, "\"Hospital Provider Spell Number\" is blank");
            }
            "nhs_number_invalid" => {
                assert_eq!(detail, "\"NHS Number\" fails the Modulus 11 check digit")
            }
            "invalid_date" => assert!(
                detail.contains("is not a real date/time in format %d/%m/%Y"),
                "{detail}"
            ),
            "date_order" => assert!(
                detail.contains(" is before ") || detail.contains(" is after "),
                "{detail}"
            ),
            other => panic!("unexpected reasons {other}"),
        }
        // The record never carries the NHS number column.
        let record: serde_json::Value = serde_json::from_str(r["record"].unwrap()).unwrap();
        assert!(record.get("nhs_number").is_none());
        assert!(record.get("spell_id").is_some() || r["reasons"] == Some("missing_required"));
    }
}

fn journey() -> Table {
    read_parquet(&sample_out().join("restricted/patient_journey"))
}

#[test]
fn planted_social_care_delays_are_recovered_exactly() {
    let j = journey();
    let (la, service, delay) = (
        j.col("la_code"),
        j.col("awaited_service"),
        j.i64s("delay_days"),
    );
    let mut groups: BTreeMap<(String, String), Vec<i64>> = BTreeMap::new();
    for i in 0..j.rows {
        if service[i].as_deref() != Some("none") {
            groups
                .entry((la[i].clone().unwrap(), service[i].clone().unwrap()))
                .or_default()
                .push(delay[i].unwrap());
        }
    }
    let truth = truth();
    let want = truth["delays"].as_array().unwrap();
    assert_eq!(groups.len(), want.len());
    for t in want {
        let key = (
            t["la_code"].as_str().unwrap().to_string(),
            t["awaited_service"].as_str().unwrap().to_string(),
        );
        let got = &groups[&key];
        assert_eq!(got.len() as u64, t["spells"].as_u64().unwrap(), "{key:?}");
        assert_eq!(
            got.iter().sum::<i64>(),
            t["delayed_bed_days"].as_i64().unwrap(),
            "{key:?}"
        );
        assert_eq!(
            median(got),
            t["median_delay_days"].as_f64().unwrap(),
            "{key:?}"
        );
    }
    // The planted bottleneck, pinned: Easton (902) home care waits 8–12 days, median 11.
    let easton = &groups[&("902".to_string(), "home_care".to_string())];
    assert_eq!(
        (easton.len(), easton.iter().sum::<i64>(), median(easton)),
        (44, 459, 11.0)
    );
    assert_eq!(groups.values().map(Vec::len).sum::<usize>(), 277);
    assert_eq!(truth["social_care_linked_spells"], 277);
}

#[test]
fn journeys_link_the_ae_attendance_and_the_hospital_request() {
    let j = journey();
    let linked = j
        .col("ed_attendance_id")
        .iter()
        .filter(|v| v.is_some())
        .count();
    assert_eq!(linked as u64, truth()["ed_linked_spells"].as_u64().unwrap());
    assert_eq!(linked, 769);
    // Every linked attendance arrived within 24 hours before admission.
    let (arr, adm) = (j.col("ed_arrival"), j.col("admission_datetime"));
    for i in 0..j.rows {
        if let (Some(a), Some(b)) = (&arr[i], &adm[i]) {
            assert!(a <= b, "arrival after admission in row {i}");
        }
    }
    // Every spell awaiting a service had a discharge request from hospital first.
    let (svc, req, start) = (
        j.col("awaited_service"),
        j.col("care_request_date"),
        j.col("care_service_start"),
    );
    for i in 0..j.rows {
        if svc[i].as_deref() != Some("none") {
            assert!(req[i].is_some() && req[i] <= start[i], "row {i}");
        }
    }
}

#[test]
fn published_delays_are_disclosure_controlled() {
    let d = read_parquet(&sample_out().join("published/discharge_delays"));
    let hes = |v: i64| match v {
        0 => Some(0),
        1..=7 => None,
        _ => Some((v + 2) / 5 * 5),
    };
    let mut by_key = BTreeMap::new();
    for i in 0..d.rows {
        let r = d.row(i);
        by_key.insert(
            (
                r["month"].unwrap()[..7].to_string(),
                r["provider_code"].unwrap().to_string(),
                r["la_code"].map(String::from),
                r["awaited_service"].unwrap().to_string(),
            ),
            i,
        );
    }
    let truth = truth();
    for t in truth["by_month"].as_array().unwrap() {
        let key = (
            t["month"].as_str().unwrap().to_string(),
            t["provider_code"].as_str().unwrap().to_string(),
            Some(t["la_code"].as_str().unwrap().to_string()),
            t["awaited_service"].as_str().unwrap().to_string(),
        );
        let i = by_key[&key];
        assert_eq!(
            d.i64s("discharges")[i],
            hes(t["discharges"].as_i64().unwrap()),
            "{key:?}"
        );
        // Every planted spell is delayed, so bed-days of 1–7 people are suppressed too.
        let people = t["discharges"].as_i64().unwrap();
        let bed_days = if (1..=7).contains(&people) {
            None
        } else {
            hes(t["delayed_bed_days"].as_i64().unwrap())
        };
        assert_eq!(d.i64s("delayed_bed_days")[i], bed_days, "{key:?}");
    }
}

#[test]
fn no_published_file_holds_a_count_of_one_to_seven_people() {
    let mut counts_checked = 0;
    // NHS England's publications are not built from the sample (see tests/it/nhse/).
    for d in joinedup::publish::Dataset::ALL
        .into_iter()
        .filter(|d| d.access() == joinedup::publish::Access::Published && !d.is_publication())
    {
        let t = read_parquet(&sample_out().join(format!("published/{}", d.name())));
        let gate = d.gate();
        for c in gate
            .counts
            .iter()
            .chain(gate.counts_of_people_things.iter().map(|(c, _)| c))
        {
            let flags = t.col(&format!("{c}_suppressed"));
            for (i, v) in t.i64s(c).into_iter().enumerate() {
                match v {
                    Some(v) => assert!(v == 0 || (v >= 10 && v % 5 == 0), "{}.{c} = {v}", d.name()),
                    None => assert_eq!(
                        flags[i].as_deref(),
                        Some("true"),
                        "{}.{c} row {i}: null without a flag",
                        d.name()
                    ),
                }
                counts_checked += 1;
            }
        }
        // Every suppressed statistic is null, and shown only on a base shown of at
        // least its smallest.
        for (s, base, min_base) in &gate.statistics {
            let (vals, flags) = (t.col(s), t.col(&format!("{s}_suppressed")));
            let bases = t.i64s(base);
            for i in 0..t.rows {
                if flags[i].as_deref() == Some("true") {
                    assert!(
                        vals[i].is_none(),
                        "{}.{s} row {i} suppressed but shown",
                        d.name()
                    );
                }
                if vals[i].is_some() {
                    assert!(
                        bases[i].is_some_and(|b| b >= (*min_base).max(1)),
                        "{}.{s} row {i} shown on base {:?}",
                        d.name(),
                        bases[i]
                    );
                }
            }
        }
        // A part of a suppressed whole is suppressed (zeros too).
        for (part, whole) in &gate.parts {
            let (parts, wholes) = (
                t.col(&format!("{part}_suppressed")),
                t.col(&format!("{whole}_suppressed")),
            );
            for i in 0..t.rows {
                if wholes[i].as_deref() == Some("true") {
                    assert_eq!(
                        parts[i].as_deref(),
                        Some("true"),
                        "{}.{part} row {i}",
                        d.name()
                    );
                }
            }
        }
        // The people behind counts are not published.
        for helper in &gate.helpers {
            assert!(
                !t.names.iter().any(|n| n == helper),
                "{}.{helper}",
                d.name()
            );
        }
    }
    assert!(counts_checked > 4_000, "{counts_checked}");
}

/// Every NHS number written in the inputs (valid or not), as 10 digits.
fn input_nhs_numbers() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (dir, col, enc) in [
        ("apc", "NHS Number", "utf-8"),
        ("ecds", "NHS_Number", "utf-8"),
        ("cld", "NHS Number", "cp1252"),
    ] {
        for f in files_under(&root().join("data-samples").join(dir)) {
            let bytes = std::fs::read(&f).unwrap();
            let text: String = if enc == "cp1252" {
                bytes
                    .iter()
                    .map(|&b| if b < 0x80 { b as char } else { '?' })
                    .collect()
            } else {
                String::from_utf8(bytes).unwrap()
            };
            let mut lines = text.lines();
            let header: Vec<&str> = lines
                .next()
                .unwrap()
                .trim_start_matches('\u{feff}')
                .split(',')
                .collect();
            let idx = header.iter().position(|h| *h == col).unwrap();
            for l in lines {
                if let Some(v) = l.split(',').nth(idx) {
                    let digits: String = v.chars().filter(char::is_ascii_digit).collect();
                    if digits.len() >= 9 {
                        out.insert(digits);
                    }
                }
            }
        }
    }
    out
}

/// Pseudonyms are HMAC-SHA-256 truncated to 128 bits, as 32 upper-case hex digits, and
/// the manifest says so. Computed here independently (the `hmac` crate, the sample's
/// demo key), every person in `hospital_spell` is the pseudonym of an input NHS number.
#[test]
fn pseudonyms_are_the_first_128_bits_of_the_keyed_hmac_and_the_manifest_names_the_scheme() {
    use hmac::{Hmac, Mac};
    let key = b"DEMO-joinedup-sample-key-not-secret";
    let expected: BTreeSet<String> = input_nhs_numbers()
        .into_iter()
        .filter(|n| n.len() == 10)
        .map(|n| {
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
            mac.update(n.as_bytes());
            let digest = mac.finalize().into_bytes();
            digest[..16].iter().map(|b| format!("{b:02X}")).collect()
        })
        .collect();
    let spells = read_parquet(&sample_out().join("restricted/hospital_spell"));
    let persons: Vec<&String> = spells.columns["person_id"].iter().flatten().collect();
    // The 5 spells planted with an invalid NHS number are kept without a person.
    assert_eq!(
        persons.len(),
        spells.rows - 5,
        "every accepted spell with a valid NHS number has a person"
    );
    for p in &persons {
        assert!(
            expected.contains(*p),
            "{p} is not the pseudonym of an input NHS number"
        );
    }
    let care = read_parquet(&sample_out().join("restricted/social_care_event"));
    let council_ids: Vec<&String> = care.columns["la_person_id"].iter().flatten().collect();
    assert!(!council_ids.is_empty());
    for id in council_ids {
        assert!(
            id.len() == 32
                && id
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)),
            "{id}"
        );
        assert!(
            !expected.contains(id),
            "a council identifier hashed like an NHS number"
        );
    }
    let info = &manifest(sample_out())["pseudonymisation"];
    assert_eq!(info["scheme"], "HMAC-SHA-256-128, upper-case hex");
    assert_eq!(info["key_source"], "demo");
    assert_eq!(info["fingerprint"].as_str().unwrap().len(), 12);
}

#[test]
fn no_raw_identifier_reaches_any_output() {
    let numbers = input_nhs_numbers();
    assert!(numbers.len() > 1000, "found {}", numbers.len());
    // Sensitive CLD values that must never be copied: names, dates of birth, postcodes.
    let mut sensitive = BTreeSet::new();
    for f in files_under(&root().join("data-samples/cld")) {
        let text: String = std::fs::read(&f)
            .unwrap()
            .iter()
            .map(|&b| if b < 0x80 { b as char } else { '?' })
            .collect();
        for l in text.lines().skip(1) {
            let v: Vec<&str> = l.split(',').collect();
            for i in [6, 7, 8, 9] {
                if v[i].len() >= 5 && !v[i].contains('?') {
                    sensitive.insert(v[i].to_string());
                }
            }
        }
    }
    let mut checked = 0;
    for path in files_under(sample_out()) {
        let texts: Vec<String> = if path.extension().is_some_and(|e| e == "parquet") {
            let t = read_parquet(&path);
            t.columns.values().flatten().flatten().cloned().collect()
        } else {
            vec![String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned()]
        };
        for text in texts {
            // Every 10-digit window of every digit run, with spaces and dashes squeezed out.
            let squeezed: String = text.chars().filter(|c| *c != ' ' && *c != '-').collect();
            for run in squeezed
                .split(|c: char| !c.is_ascii_digit())
                .filter(|r| r.len() >= 10)
            {
                for w in 0..=run.len() - 10 {
                    assert!(
                        !numbers.contains(&run[w..w + 10]),
                        "{} holds an input NHS number",
                        path.display()
                    );
                }
            }
            for s in &sensitive {
                assert!(
                    !text.contains(s.as_str()),
                    "{} holds sensitive value {s:?}",
                    path.display()
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 10_000, "checked {checked} values");
}

#[test]
fn two_runs_on_the_same_inputs_write_identical_data_files() {
    let other = tempfile::tempdir().unwrap();
    let (code, _, stderr) = result(&joinedup(&[
        "run",
        "--out",
        other.path().to_str().unwrap(),
        "-q",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert_same_data_files(sample_out(), other.path());
}

/// Every dataset and quarantine file under `a` exists under `b` with the same bytes.
fn assert_same_data_files(a: &Path, b: &Path) {
    for dir in ["restricted", "published", "quarantine"] {
        let files = files_under(&a.join(dir));
        assert!(!files.is_empty(), "{dir} is empty");
        for f in files {
            let rel = f.strip_prefix(a).unwrap();
            assert_eq!(
                std::fs::read(&f).unwrap(),
                std::fs::read(b.join(rel)).unwrap(),
                "{}",
                rel.display()
            );
        }
    }
}

#[test]
fn files_checked_in_parallel_ranges_give_the_same_outputs_as_one_sequential_read() {
    // 4 KiB ranges split every sample file; quarantine line and row numbers, staged row
    // numbers and every dataset must be byte-for-byte those of the whole-file read.
    let other = tempfile::tempdir().unwrap();
    let (code, _, stderr) = result(&joinedup_env(
        &["run", "--out", other.path().to_str().unwrap(), "-q"],
        &[("JOINEDUP_INGEST_CHUNK_BYTES", "4096")],
    ));
    assert_eq!(code, 0, "{stderr}");
    let ranges = |out: &Path| {
        files_under(&out.join(".cache/ingest"))
            .iter()
            .filter(|p| {
                let n = p.file_name().unwrap().to_str().unwrap();
                n.starts_with("rows") && n.ends_with(".parquet")
            })
            .count()
    };
    assert_eq!(
        ranges(sample_out()),
        5,
        "one range per sample file by default"
    );
    assert!(
        ranges(other.path()) >= 10,
        "the 4 KiB setting split the files into ranges"
    );
    assert_same_data_files(sample_out(), other.path());
}

#[test]
fn attendances_read_in_many_small_pieces_give_the_same_outputs() {
    // A&E attendances are summarised and written a piece at a time (kept by month);
    // 97-row pieces split every staged file many times, and every output must be
    // byte-for-byte that of the default (one piece for the sample).
    let other = tempfile::tempdir().unwrap();
    let (code, _, stderr) = result(&joinedup_env(
        &["run", "--out", other.path().to_str().unwrap(), "-q"],
        &[("JOINEDUP_PIECE_ROWS", "97"), ("JOINEDUP_LOG", "debug")],
    ));
    assert_eq!(code, 0, "{stderr}");
    let pieces = stderr
        .lines()
        .filter(|l| l.contains("frame collected") && l.contains("reading A&E attendances"))
        .count();
    assert_eq!(pieces, 2192_usize.div_ceil(97), "pieces read");
    assert_same_data_files(sample_out(), other.path());
    assert!(
        !other.path().join(".staging").exists(),
        "nothing is left in staging"
    );
}

#[test]
fn a_pipeline_without_attendances_writes_every_dataset_with_no_ae_links() {
    // The sample pipeline without its ECDS source: the A&E pass sees one empty piece.
    let dir = tempfile::tempdir().unwrap();
    let text = sample_pipeline_text();
    let start = text.find("[sources.ecds]").unwrap();
    let end = start + text[start..].find("[sources.cld]").unwrap();
    let text = sample_pipeline_anywhere(&format!("{}{}", &text[..start], &text[end..]));
    let pipeline = dir.path().join("no_ae.toml");
    std::fs::write(&pipeline, text).unwrap();
    let out = dir.path().join("out");
    let (code, _, stderr) = result(&joinedup(&[
        "run",
        pipeline.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let ed = files_under(&out.join("restricted/ed_attendance"));
    assert_eq!(ed.len(), 1, "one empty file: {ed:?}");
    assert_eq!(read_parquet(&ed[0]).rows, 0);
    let journeys: Vec<Table> = files_under(&out.join("restricted/patient_journey"))
        .iter()
        .map(|f| read_parquet(f))
        .collect();
    let spells: usize = journeys.iter().map(|t| t.rows).sum();
    assert_eq!(
        spells,
        files_under(&sample_out().join("restricted/patient_journey"))
            .iter()
            .map(|f| read_parquet(f).rows)
            .sum::<usize>(),
        "one journey per spell, as with A&E"
    );
    assert!(
        journeys
            .iter()
            .all(|t| t.col("ed_attendance_id").iter().all(Option::is_none)),
        "no journey links to an attendance"
    );
}

#[test]
fn the_manifest_says_how_long_each_dataset_took() {
    let m = manifest(sample_out());
    let timed: Vec<&str> = m["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["access"] != "quarantine")
        .map(|o| {
            for key in ["compute_seconds", "write_seconds"] {
                let v = o[key].as_f64().unwrap_or(-1.0);
                assert!((0.0..600.0).contains(&v), "{key} of {}: {v}", o["dataset"]);
            }
            o["dataset"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        timed,
        [
            "bottlenecks",
            "discharge_delays",
            "ed_attendance",
            "flow_daily",
            "hospital_spell",
            "linkage_quality",
            "patient_journey",
            "social_care_event",
            "social_care_queue"
        ],
        "every dataset, in plan order (by name), though ed_attendance is written first"
    );
}

/// The manifest names the build that wrote it, not only the version: another commit
/// under the same version is another build, and its data directory is rebuilt.
#[test]
fn the_manifest_names_the_build() {
    let versions = &manifest(sample_out())["versions"];
    assert_eq!(versions["joinedup"], env!("CARGO_PKG_VERSION"));
    let build = versions["joinedup_build"].as_str().unwrap();
    assert_eq!(build.len(), 16, "{build}");
    assert!(build.bytes().all(|b| b.is_ascii_hexdigit()), "{build}");
}

#[test]
fn every_dataset_matches_its_schema_file_column_for_column() {
    let out = sample_out();
    let mut checked = 0;
    // NHS England's publications are checked in tests/it/nhse/real_data.rs.
    for d in joinedup::publish::Dataset::ALL
        .into_iter()
        .filter(|d| !d.is_publication())
    {
        assert_matches_schema_file(out, d);
        checked += 1;
    }
    assert_eq!(checked, 9);
}

/// Regression: staged pseudonyms were once forced plain, like those of output files.
/// Rows of one person come together in an extract, so a batch's pseudonyms repeat, and
/// polars' writer keeps each once in a dictionary; plain, numbering read every row's 64
/// bytes back (~130 MB more at 10 M rows, when pseudonyms were 64 hex digits).
#[test]
fn staged_pseudonyms_that_repeat_are_kept_in_a_dictionary() {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    // .cache/ingest/<configuration>/cld/<file>/rows-NNN.parquet
    let staged: Vec<_> = files_under(&sample_out().join(".cache/ingest"))
        .into_iter()
        .filter(|p| p.components().any(|c| c.as_os_str() == "cld"))
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("rows"))
        .collect();
    assert!(!staged.is_empty());
    let mut dictionaries = 0;
    for path in &staged {
        let reader = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
        for group in reader.metadata().row_groups() {
            for column in group.columns() {
                if column.column_path().string() == "la_person_id" {
                    dictionaries += usize::from(column.dictionary_page_offset().is_some());
                }
            }
        }
    }
    assert!(
        dictionaries > 0,
        "no staged CLD file keeps its council person ids in a dictionary"
    );
}

/// Regression (review): a council id is pseudonymised under its council (`scope`), but
/// once columns no mapping reads were left unstored, a mapping filling `la_code` with a
/// constant left the scope column unread: every council's ids were hashed under an empty
/// scope, so two councils' person 123 became one person. The scope column is read
/// whatever the mapping fills.
#[test]
fn regression_a_council_id_is_scoped_by_its_council_whatever_the_mapping_reads() {
    let dir = tempfile::tempdir().unwrap();
    let mapping = std::fs::read_to_string(root().join("pipelines/mappings/cld.toml"))
        .unwrap()
        .replace(
            "la_code = { from = \"la_code\" }",
            "la_code = { value = \"901\" }",
        );
    std::fs::write(dir.path().join("cld_constant.toml"), mapping).unwrap();
    let text = sample_pipeline_anywhere(&sample_pipeline_text()).replace(
        &format!("\"{}/pipelines/mappings/cld.toml\"", root().display()),
        &format!("\"{}\"", dir.path().join("cld_constant.toml").display()),
    );
    let pipeline = dir.path().join("p.toml");
    std::fs::write(&pipeline, text).unwrap();
    let out = dir.path().join("out");
    // Council 901's file alone (the mapping calls every row council 901).
    let source = format!(
        "cld={}",
        root().join("data-samples/cld/cld_901_2026Q3.csv").display()
    );
    let (code, _, stderr) = result(&joinedup(&[
        "run",
        pipeline.to_str().unwrap(),
        "--source",
        &source,
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{stderr}");
    let ids = |out: &std::path::Path| {
        let t = read_parquet(&out.join("restricted/social_care_event"));
        let mut v: Vec<Option<String>> = (0..t.col("la_person_id").len())
            .filter(|&i| t.col("la_code")[i].as_deref() == Some("901"))
            .map(|i| t.col("la_person_id")[i].clone())
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let scoped = ids(sample_out());
    assert!(scoped.len() > 50, "{}", scoped.len());
    assert_eq!(ids(&out), scoped);
}
