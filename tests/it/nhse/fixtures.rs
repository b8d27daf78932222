//! Generated workbooks, one layout change each, and what each must still give.

use std::path::{Path, PathBuf};

use super::workbook::{Fixture, write};
use super::*;

/// A folder holding one fixture workbook per `(file name, fixture)`.
fn folder(dir: &Path, files: &[(&str, Fixture)]) -> PathBuf {
    let sitrep = dir.join("sitrep");
    std::fs::create_dir_all(&sitrep).unwrap();
    for (name, f) in files {
        write(&sitrep.join(name), f);
    }
    sitrep
}

/// A folder with one small tidy A&E file, so runs stay fast.
fn ae_folder(dir: &Path) -> PathBuf {
    let ae = dir.join("ae");
    std::fs::create_dir_all(&ae).unwrap();
    std::fs::write(
        ae.join("2023-06.csv"),
        "period,org_code,type,attendances,breaches,admissions\n2023-06-01,RAL,1,100,10,20\n",
    )
    .unwrap();
    ae
}

/// Loads the fixtures and returns the output folder.
fn load(dir: &Path, files: &[(&str, Fixture)]) -> (PathBuf, i32, String) {
    let sitrep = folder(dir, files);
    let ae = ae_folder(dir);
    let out = dir.join("out");
    let (code, _, stderr) = run(&out, &[("sitrep", &sitrep), ("ae", &ae)]);
    (out, code, stderr)
}

fn dq<'m>(m: &'m serde_json::Value, check: &str) -> Vec<&'m serde_json::Value> {
    m["data_quality"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["check"] == check)
        .collect()
}

/// The values every variation must still give: one cell from each table.
fn assert_baseline(out: &Path, file: &str) {
    let daily = dataset(out, "sitrep_daily");
    let e = row(
        &daily,
        &[
            ("source_file", file),
            ("date", "2023-06-01"),
            ("org_level", "england"),
        ],
    );
    assert_eq!(
        (e["nctr"], e["discharged"], e["remaining_nctr"]),
        (Some("63"), Some("15"), Some("48"))
    );
    assert_eq!(e["org_name"], Some("ENGLAND (Type 1 Trusts)"));
    let icb = row(
        &daily,
        &[
            ("source_file", file),
            ("date", "2023-06-03"),
            ("org_code", "QRV"),
        ],
    );
    assert_eq!(
        (icb["nctr"], icb["icb_code"], icb["region"]),
        (Some("36"), Some("QRV"), Some("LONDON"))
    );
    let trust = row(
        &daily,
        &[
            ("source_file", file),
            ("date", "2023-06-02"),
            ("org_code", "RAP"),
        ],
    );
    assert_eq!(
        (trust["org_level"], trust["nctr"]),
        (Some("trust"), Some("32"))
    );
    let beds = dataset(out, "sitrep_bed_days");
    let b = row(
        &beds,
        &[
            ("source_file", file),
            ("week_commencing", "2023-06-05"),
            ("org_level", "england"),
            ("los_threshold", "14"),
        ],
    );
    assert_eq!(b["additional_bed_days"], Some("573"));
    let dest = dataset(out, "sitrep_destinations");
    let d = row(
        &dest,
        &[
            ("source_file", file),
            ("org_code", "RAP"),
            ("pathway", "P3b"),
        ],
    );
    assert_eq!(
        (d["discharges"], d["month"]),
        (Some("152"), Some("2023-06-01"))
    );
    let reasons = dataset(out, "sitrep_delay_reasons");
    let r = row(
        &reasons,
        &[
            ("source_file", file),
            ("org_code", "RAL"),
            ("reason_code", "no_plan"),
        ],
    );
    assert_eq!(
        (r["avg_patients"], r["period_start"]),
        (Some("1.5"), Some("2023-06-01"))
    );
    assert_eq!(
        daily
            .col("source_file")
            .iter()
            .filter(|f| f.as_deref() == Some(file))
            .count(),
        3 * 7
    );
}

#[test]
fn a_plain_fixture_loads_with_its_cover_and_no_findings() {
    let dir = tempfile::tempdir().unwrap();
    let (out, code, stderr) = load(dir.path(), &[("plain.xlsx", Fixture::default())]);
    assert_eq!(code, 0, "{stderr}");
    assert_baseline(&out, "plain.xlsx");
    let m = manifest(&out);
    let f = &m["publications"][1]["files"][0];
    assert_eq!(
        (
            f["layout"].as_str(),
            f["published_on"].as_str(),
            f["status"].as_str()
        ),
        (Some("acute"), Some("2023-07-13"), Some("loaded"))
    );
    let checks: Vec<&str> = m["data_quality"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["check"].as_str().unwrap())
        .collect();
    assert_eq!(
        checks,
        Vec::<&str>::new(),
        "a consistent workbook has no findings"
    );
}

#[test]
fn a_shifted_header_row_and_column_give_the_same_values() {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture {
        shift_rows: 4,
        shift_cols: 2,
        ..Fixture::default()
    };
    let (out, code, stderr) = load(dir.path(), &[("shifted.xlsx", f)]);
    assert_eq!(code, 0, "{stderr}");
    assert_baseline(&out, "shifted.xlsx");
}

#[test]
fn extra_sheets_and_a_contents_page_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture {
        extra_sheets: true,
        ..Fixture::default()
    };
    let (out, code, stderr) = load(dir.path(), &[("extra.xlsx", f)]);
    assert_eq!(code, 0, "{stderr}");
    assert_baseline(&out, "extra.xlsx");
    assert_eq!(dq(&manifest(&out), "duplicate_table").len(), 0);
}

#[test]
fn a_renamed_label_is_kept_verbatim_with_a_null_code_and_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture {
        first_reason: "Awaiting patient transport (renamed)",
        ..Fixture::default()
    };
    let (out, code, stderr) = load(dir.path(), &[("renamed.xlsx", f)]);
    assert_eq!(code, 0, "{stderr}");
    assert_baseline(&out, "renamed.xlsx");
    let reasons = dataset(&out, "sitrep_delay_reasons");
    let r = row(
        &reasons,
        &[
            ("org_code", "RAL"),
            ("reason_label", "Awaiting patient transport (renamed)"),
        ],
    );
    assert_eq!((r["reason_code"], r["avg_patients"]), (None, Some("0.5")));
    let m = manifest(&out);
    let w = dq(&m, "unknown_label");
    assert_eq!(w.len(), 1);
    assert_eq!(w[0]["sheet"], "Table 5");
    assert_eq!(w[0]["count"], 7, "England, London, two ICBs, three trusts");
    assert_eq!(
        w[0]["detail"],
        "delay reason \"Awaiting patient transport (renamed)\" ('Table 5'!E4) is not in the label mapping: kept with a null reason_code"
    );
}

#[test]
fn a_missing_day_is_null_not_zero() {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture {
        missing_day: true,
        ..Fixture::default()
    };
    let (out, code, stderr) = load(dir.path(), &[("dash.xlsx", f)]);
    assert_eq!(code, 0, "{stderr}");
    let daily = dataset(&out, "sitrep_daily");
    let r = row(&daily, &[("date", "2023-06-02"), ("org_code", "RAP")]);
    assert_eq!(
        (r["nctr"], r["discharged"], r["remaining_nctr"]),
        (None, None, None)
    );
    let r = row(&daily, &[("date", "2023-06-02"), ("org_code", "QMJ")]);
    assert_eq!(r["nctr"], None, "the ICB of a trust that did not submit");
    let r = row(&daily, &[("date", "2023-06-03"), ("org_code", "RAP")]);
    assert_eq!(r["nctr"], Some("33"));
    let m = manifest(&out);
    let w = dq(&m, "missing_values");
    assert_eq!(w.len(), 1);
    assert_eq!(
        w[0]["count"], 6,
        "RAP and QMJ on 2 June, three columns each"
    );
    assert_eq!(w[0]["sheet"], "Table 2");
}

#[test]
fn a_workbook_without_cover_sheet_takes_its_period_from_the_tables() {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture {
        cover: None,
        ..Fixture::default()
    };
    let (out, code, stderr) = load(dir.path(), &[("nocover.xlsx", f)]);
    assert_eq!(code, 0, "{stderr}");
    assert_baseline(&out, "nocover.xlsx");
    let daily = dataset(&out, "sitrep_daily");
    let r = row(&daily, &[("date", "2023-06-01"), ("org_level", "england")]);
    assert_eq!(
        (r["setting"], r["report_month"], r["published_on"]),
        (Some("acute"), Some("2023-06-01"), None)
    );
    let m = manifest(&out);
    let w = dq(&m, "no_cover_sheet");
    assert_eq!(w.len(), 1);
    assert_eq!(
        w[0]["detail"],
        "no Cover Sheet: period 2023-06-01 to 2023-06-30 taken from the tables' own headers; published and revised dates unknown"
    );
    assert_eq!(m["publications"][1]["files"][0]["period_end"], "2023-06-30");
}

#[test]
fn the_four_column_day_layout_sums_discharges_and_skips_the_code_row() {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture {
        four_columns: true,
        ..Fixture::default()
    };
    let (out, code, stderr) = load(dir.path(), &[("four.xlsx", f)]);
    assert_eq!(code, 0, "{stderr}");
    assert_baseline(&out, "four.xlsx");
}

#[test]
fn a_workbook_that_cannot_be_understood_fails_alone_naming_sheet_and_cell() {
    let dir = tempfile::tempdir().unwrap();
    let broken = Fixture {
        broken_table_5: true,
        ..Fixture::default()
    };
    let other = Fixture {
        cover: Some(((2023, 8, 10), None)),
        ..Fixture::default()
    };
    let (out, code, stderr) = load(
        dir.path(),
        &[("a_broken.xlsx", broken), ("b_ok.xlsx", other)],
    );
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("a_broken.xlsx"), "{stderr}");
    let m = manifest(&out);
    assert_eq!(m["status"], "files_failed");
    let files = m["publications"][1]["files"].as_array().unwrap();
    assert_eq!(files[0]["status"], "failed");
    assert_eq!(
        files[0]["error"],
        "sheet \"Table 5\" cell B1: no England row: looked for a cell starting \"ENGLAND\" in rows 2–17, columns B–M"
    );
    assert_eq!(files[1]["status"], "loaded");
    assert_baseline(&out, "b_ok.xlsx");
    let daily = dataset(&out, "sitrep_daily");
    assert!(
        !daily
            .col("source_file")
            .iter()
            .any(|f| f.as_deref() == Some("a_broken.xlsx"))
    );
}

/// Regression (hostile-input review): a sitrep whose figures are formulas without saved
/// results (written by a program, not saved by Excel) loaded with exit 0 as a month of
/// nulls, its England and region rows gone; put in place of the workbook loaded before,
/// it replaced that month with the nulls. It is refused (exit 3, naming the sheet and
/// the first such cell), and the month loaded before stays as it was.
#[test]
fn regression_a_workbook_of_unsaved_formulas_is_refused_and_the_month_before_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (out, code, stderr) = load(dir.path(), &[("june.xlsx", Fixture::default())]);
    assert_eq!(code, 0, "{stderr}");
    let formulas = Fixture {
        unsaved_formulas: true,
        ..Fixture::default()
    };
    write(&dir.path().join("sitrep/june.xlsx"), &formulas);
    let ae = dir.path().join("ae");
    let sitrep = dir.path().join("sitrep");
    let (code, _, stderr) = run(&out, &[("sitrep", &sitrep), ("ae", &ae)]);
    assert_eq!(code, 3, "{stderr}");
    let m = manifest(&out);
    let file = &m["publications"][1]["files"][0];
    assert_eq!(file["status"], "failed");
    let error = file["error"].as_str().unwrap();
    assert!(
        error.starts_with("sheet \"Table 2\" cell ")
            && error.contains("formula cell(s) of this sheet have no saved result"),
        "{error}"
    );
    assert_baseline(&out, "june.xlsx");

    // A formula without a result on a sheet nothing is read from (a Contents sheet of
    // links a program wrote) refuses nothing (code review: every sheet was checked).
    let contents = Fixture {
        extra_sheets: true,
        contents_formula: true,
        ..Fixture::default()
    };
    write(&dir.path().join("sitrep/june.xlsx"), &contents);
    let (code, _, stderr) = run(&out, &[("sitrep", &sitrep), ("ae", &ae)]);
    assert_eq!(code, 0, "{stderr}");
    assert_baseline(&out, "june.xlsx");
}

/// Regression (hostile-input review): with the ICB and trust blocks' code and name
/// columns the other way round, every ICB and trust was published as a region named by
/// its code (`org_level = "region"`, `region = "QRV"`, no `org_code`), exit 0. The
/// columns are found by their headers' labels: the same values as the usual layout.
#[test]
fn regression_names_before_codes_are_read_by_their_labels() {
    let dir = tempfile::tempdir().unwrap();
    let swapped = Fixture {
        names_before_codes: true,
        ..Fixture::default()
    };
    let (out, code, stderr) = load(dir.path(), &[("swapped.xlsx", swapped)]);
    assert_eq!(code, 0, "{stderr}");
    assert_baseline(&out, "swapped.xlsx");
    let daily = dataset(&out, "sitrep_daily");
    let levels: std::collections::BTreeSet<Option<String>> =
        daily.col("org_level").iter().cloned().collect();
    assert_eq!(
        levels,
        ["england", "icb", "region", "trust"]
            .map(|l| Some(l.to_string()))
            .into_iter()
            .collect()
    );
}

#[test]
fn a_revised_workbook_replaces_its_period_in_the_run_and_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let original = Fixture::default();
    let revised = Fixture {
        cover: Some(((2023, 7, 13), Some((2023, 8, 10)))),
        bump: 100.0,
        ..Fixture::default()
    };
    // Both in one folder: the revision wins whatever the file order.
    let (out, code, stderr) = load(
        dir.path(),
        &[
            ("june-revised.xlsx", revised.clone()),
            ("june.xlsx", original.clone()),
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let nctr = |out: &Path| {
        let daily = dataset(out, "sitrep_daily");
        let r = row(&daily, &[("date", "2023-06-01"), ("org_level", "england")]);
        (
            r["nctr"].map(String::from),
            r["source_file"].map(String::from),
            r["revised_on"].map(String::from),
        )
    };
    assert_eq!(
        nctr(&out),
        (
            Some("363".into()),
            Some("june-revised.xlsx".into()),
            Some("2023-08-10".into())
        )
    );
    let m = manifest(&out);
    let files = m["publications"][1]["files"].as_array().unwrap();
    assert_eq!(
        (files[0]["status"].as_str(), files[1]["status"].as_str()),
        (Some("loaded"), Some("superseded"))
    );
    assert_eq!(m["publications"][1]["periods"][0]["action"], "added");

    // The original alone into the same data directory: the published revision is kept.
    let only_original = dir.path().join("only_original");
    std::fs::create_dir_all(&only_original).unwrap();
    write(&only_original.join("june.xlsx"), &original);
    let ae = dir.path().join("ae");
    let (code, _, stderr) = run(&out, &[("sitrep", &only_original), ("ae", &ae)]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(nctr(&out).0.as_deref(), Some("363"));
    let p = &manifest(&out)["publications"][1]["periods"][0];
    assert_eq!(
        (p["action"].as_str(), p["other_file"].as_str()),
        (Some("kept_existing"), Some("june-revised.xlsx"))
    );

    // A later revision replaces it; another month is added beside it.
    let later = dir.path().join("later");
    std::fs::create_dir_all(&later).unwrap();
    write(
        &later.join("june-v3.xlsx"),
        &Fixture {
            cover: Some(((2023, 7, 13), Some((2023, 12, 14)))),
            bump: 200.0,
            ..Fixture::default()
        },
    );
    let (code, _, stderr) = run(&out, &[("sitrep", &later), ("ae", &ae)]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        nctr(&out),
        (
            Some("663".into()),
            Some("june-v3.xlsx".into()),
            Some("2023-12-14".into())
        )
    );
    let p = &manifest(&out)["publications"][1]["periods"][0];
    assert_eq!(
        (p["action"].as_str(), p["other_file"].as_str()),
        (Some("replaced"), Some("june-revised.xlsx"))
    );
    let daily = dataset(&out, "sitrep_daily");
    assert_eq!(daily.rows, 3 * 7, "one June, not two");
}

#[test]
fn the_msitae_layout_is_split_by_department_type_without_the_total_row() {
    let dir = tempfile::tempdir().unwrap();
    let ae = dir.path().join("ae");
    std::fs::create_dir_all(&ae).unwrap();
    let header = "Period,Org Code,Parent Org,Org name,A&E attendances Type 1,A&E attendances Type 2,A&E attendances Other A&E Department,A&E attendances Booked Appointments Type 1,A&E attendances Booked Appointments Type 2,A&E attendances Booked Appointments Other Department,Attendances over 4hrs Type 1,Attendances over 4hrs Type 2,Attendances over 4hrs Other Department,Attendances over 4hrs Booked Appointments Type 1,Attendances over 4hrs Booked Appointments Type 2,Attendances over 4hrs Booked Appointments Other Department,Patients who have waited 4-12 hs from DTA to admission,Patients who have waited 12+ hrs from DTA to admission,Emergency admissions via A&E - Type 1,Emergency admissions via A&E - Type 2,Emergency admissions via A&E - Other A&E department,Other emergency admissions";
    let body = [
        "MSitAE-MARCH-2026,RF4,NHS ENGLAND LONDON   ,BARKING HAVERING AND REDBRIDGE,20000,500,3000,10,0,5,4000,5,20,1,0,0,900,120,4100,0,0,1500",
        "MSitAE-MARCH-2026,AD913,NHS ENGLAND LONDON   ,A WALK-IN CENTRE,0,0,2500,0,0,0,0,0,30,0,0,0,0,0,0,0,0,",
        // TOTAL says 60 over 4 hours at other departments; the organisations add up to 50.
        "TOTAL,,TOTAL,,20000,500,5500,10,0,5,4000,5,60,1,0,0,900,120,4100,0,0,1500",
    ];
    std::fs::write(
        ae.join("msitae-march-2026.csv"),
        format!("\u{feff}{header}\r\n{}\r\n", body.join("\r\n")),
    )
    .unwrap();
    let sitrep = folder(dir.path(), &[("plain.xlsx", Fixture::default())]);
    let out = dir.path().join("out");
    let (code, _, stderr) = run(&out, &[("sitrep", &sitrep), ("ae", &ae)]);
    assert_eq!(code, 0, "{stderr}");
    let t = dataset(&out, "ae_monthly");
    assert_eq!(
        t.rows, 6,
        "two organisations × three department types; TOTAL left out"
    );
    let r = row(&t, &[("org_code", "RF4"), ("department_type", "1")]);
    assert_eq!(r["month"], Some("2026-03-01"));
    assert_eq!(
        (r["attendances"], r["over_4h"], r["emergency_admissions"]),
        (Some("20000"), Some("4000"), Some("4100"))
    );
    assert_eq!(
        (r["booked_attendances"], r["booked_over_4h"]),
        (Some("10"), Some("1"))
    );
    assert_eq!(
        (
            r["dta_4_to_12h"],
            r["dta_over_12h"],
            r["other_emergency_admissions"]
        ),
        (Some("900"), Some("120"), Some("1500"))
    );
    assert_eq!(
        (r["parent_org"], r["layout"]),
        (Some("NHS ENGLAND LONDON"), Some("msitae"))
    );
    let r = row(&t, &[("org_code", "RF4"), ("department_type", "other")]);
    assert_eq!((r["attendances"], r["dta_over_12h"]), (Some("3000"), None));
    let r = row(&t, &[("org_code", "AD913"), ("department_type", "1")]);
    assert_eq!(r["other_emergency_admissions"], None, "blank stays null");
    let m = manifest(&out);
    let excluded = dq(&m, "total_row_excluded");
    assert_eq!(excluded.len(), 1);
    assert_eq!(
        excluded[0]["detail"],
        "line 4: the national TOTAL row for 2026-03-01 is not an organisation and was left out"
    );
    let sums = dq(&m, "sum_orgs_to_total");
    assert_eq!(sums.len(), 1);
    assert_eq!(
        sums[0]["detail"],
        "1 of 9 TOTAL-row values for 2026-03-01 differ from the sum of the organisations: over_4h_other: TOTAL 60 vs sum 50"
    );
    assert_eq!(dq(&m, "missing_values")[0]["count"], 1);
}

#[test]
fn a_publications_pipeline_needs_no_key_and_only_publications_skip_disclosure() {
    let (code, stdout, stderr) =
        result(&joinedup(&["validate", "pipelines/nhse_publications.toml"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout.trim(),
        "pipelines/nhse_publications.toml: ok (2 sources, 5 datasets)"
    );

    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("pipelines/nhse_publications.toml"))
        .unwrap()
        .replace("../schemas", &root().join("schemas").display().to_string())
        .replace(
            "mappings/nhse_labels.toml",
            &root()
                .join("pipelines/mappings/nhse_labels.toml")
                .display()
                .to_string(),
        )
        .replace(
            "[outputs.ae_monthly]\ndisclosure = \"none\"",
            "[outputs.ae_monthly]\ndisclosure = \"hes\"",
        )
        .replace(
            "[outputs.sitrep_bed_days]\ndisclosure = \"none\"",
            "[outputs.sitrep_bed_days]",
        )
        + "\n[outputs.discharge_delays]\ndisclosure = \"none\"\n";
    let file = dir.path().join("p.toml");
    std::fs::write(&file, text).unwrap();
    let (code, _, stderr) = result(&joinedup(&["validate", file.to_str().unwrap()]));
    assert_eq!(code, 2, "{stderr}");
    for e in [
        "outputs.ae_monthly.disclosure: \"hes\" does not apply: ae_monthly holds NHS England's already-published statistics, which are republished as they are; valid values are \"none\"",
        "outputs.sitrep_bed_days.disclosure: missing: sitrep_bed_days holds NHS England's already-published statistics; say so with disclosure = \"none\"",
        "outputs.discharge_delays.disclosure: unknown disclosure rule \"none\" (\"none\" is only for NHS England's already-published statistics); valid values are \"hes\"",
        "outputs.discharge_delays: discharge_delays is built from person-level sources (kind = \"local\", or a fetched source with a contract), and the pipeline has none",
    ] {
        assert!(stderr.contains(e), "missing {e:?} in:\n{stderr}");
    }
    assert!(!stderr.contains("pseudonymisation"), "{stderr}");
}

#[test]
fn dates_outside_the_stated_period_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture {
        cover_period: ((2023, 7, 1), (2023, 7, 31)),
        ..Fixture::default()
    };
    let (out, code, stderr) = load(dir.path(), &[("july.xlsx", f)]);
    assert_eq!(code, 0, "{stderr}");
    let m = manifest(&out);
    let found: Vec<(&str, u64, &str)> = dq(&m, "date_outside_period")
        .iter()
        .map(|r| {
            (
                r["sheet"].as_str().unwrap(),
                r["count"].as_u64().unwrap(),
                r["detail"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![
            (
                "Table 2",
                3,
                "3 column header(s) fall outside the stated period 2023-07-01 to 2023-07-31: 'Table 2'!E3 2023-06-01; 'Table 2'!H3 2023-06-02; 'Table 2'!K3 2023-06-03"
            ),
            (
                "Table 3",
                2,
                "2 column header(s) fall outside the stated period 2023-07-01 to 2023-07-31: 'Table 3'!E3 w/c 2023-05-29; 'Table 3'!H3 w/c 2023-06-05"
            ),
            (
                "Table 4",
                1,
                "1 column header(s) fall outside the stated period 2023-07-01 to 2023-07-31: 'Table 4'!E3 2023-06-01"
            ),
            (
                "Table 5",
                1,
                "1 column header(s) fall outside the stated period 2023-07-01 to 2023-07-31: 'Table 5'!E3 2023-06-01"
            ),
        ]
    );
    let daily = dataset(&out, "sitrep_daily");
    let r = row(&daily, &[("date", "2023-06-01"), ("org_level", "england")]);
    assert_eq!(
        r["report_month"],
        Some("2023-07-01"),
        "the stated period keys the workbook"
    );
}

#[test]
fn person_level_and_publication_sources_cannot_share_a_pipeline() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("pipelines/sample.toml"))
        .unwrap()
        .replace("../schemas", &root().join("schemas").display().to_string())
        .replace(
            "mappings/",
            &format!("{}/", root().join("pipelines/mappings").display()),
        )
        + "\n[sources.sitrep]\nkind = \"nhse_sitrep\"\npath = \"x\"\nlabels = \"mappings/nhse_labels.toml\"\n\n[sources.ae]\nkind = \"nhse_ae\"\npath = \"y\"\nlabels = \"no/such/labels.toml\"\n";
    let file = dir.path().join("mixed.toml");
    std::fs::write(&file, text).unwrap();
    let (code, _, stderr) = result(&joinedup(&["validate", file.to_str().unwrap()]));
    assert_eq!(code, 2, "{stderr}");
    for e in [
        "mixed.toml: sources: person-level sources (\"apc\", \"cld\", \"ecds\") and NHS England publication sources (\"ae\", \"sitrep\") cannot share a pipeline yet",
        "mixed.toml: sources.ae.labels: file ",
        "no/such/labels.toml does not exist",
    ] {
        assert!(stderr.contains(e), "missing {e:?} in:\n{stderr}");
    }
}

/// Regression: A&E files carry no revision date, and in name order
/// `2016-04-01-revised.csv` comes before `2016-04-01.csv`, so the original won over its
/// revision (and a revision published earlier was replaced by the original re-read).
#[test]
fn an_ae_file_named_revised_wins_over_the_original() {
    let dir = tempfile::tempdir().unwrap();
    let ae = dir.path().join("ae");
    std::fs::create_dir_all(&ae).unwrap();
    let tidy = |attendances: u32| {
        format!(
            "period,org_code,type,attendances,breaches,admissions\n2016-04-01,RF4,1,{attendances},4082,4074\n"
        )
    };
    std::fs::write(ae.join("2016-04-01.csv"), tidy(18788)).unwrap();
    std::fs::write(ae.join("2016-04-01-revised.csv"), tidy(19999)).unwrap();
    let sitrep = folder(dir.path(), &[("plain.xlsx", Fixture::default())]);
    let out = dir.path().join("out");
    let (code, _, stderr) = run(&out, &[("sitrep", &sitrep), ("ae", &ae)]);
    assert_eq!(code, 0, "{stderr}");
    let attendances = |out: &Path| {
        let t = dataset(out, "ae_monthly");
        row(&t, &[("org_code", "RF4"), ("department_type", "1")])["attendances"].map(String::from)
    };
    assert_eq!(attendances(&out).as_deref(), Some("19999"));
    // The revision alone is published; the original delivered again does not replace it.
    std::fs::remove_file(ae.join("2016-04-01-revised.csv")).unwrap();
    std::fs::write(ae.join("2016-04-01.csv"), tidy(18788) + "\n").unwrap();
    let (code, _, stderr) = run(&out, &[("sitrep", &sitrep), ("ae", &ae)]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(attendances(&out).as_deref(), Some("19999"));
}

/// Regression: a revised workbook whose Table 3 was not recognised (a reworded title, a
/// `table_not_found` result) erased the Table 3 already published for its month.
#[test]
fn a_revision_missing_a_table_keeps_that_table_as_published() {
    let dir = tempfile::tempdir().unwrap();
    let (out, code, stderr) = load(dir.path(), &[("june.xlsx", Fixture::default())]);
    assert_eq!(code, 0, "{stderr}");
    let bed_days_rows = dataset(&out, "sitrep_bed_days").rows;
    assert!(bed_days_rows > 0);
    let revised = dir.path().join("revised");
    std::fs::create_dir_all(&revised).unwrap();
    write(
        &revised.join("june-revised.xlsx"),
        &Fixture {
            cover: Some(((2023, 7, 13), Some((2023, 8, 10)))),
            bump: 100.0,
            reworded_table_3: true,
            ..Fixture::default()
        },
    );
    let ae = dir.path().join("ae");
    let (code, _, stderr) = run(&out, &[("sitrep", &revised), ("ae", &ae)]);
    assert_eq!(code, 0, "{stderr}");
    // Table 2 comes from the revision; Table 3 stays as published from the original.
    let daily = dataset(&out, "sitrep_daily");
    assert!(
        daily
            .col("source_file")
            .iter()
            .all(|f| f.as_deref() == Some("june-revised.xlsx"))
    );
    let bed_days = dataset(&out, "sitrep_bed_days");
    assert_eq!(bed_days.rows, bed_days_rows);
    assert!(
        bed_days
            .col("source_file")
            .iter()
            .all(|f| f.as_deref() == Some("june.xlsx"))
    );
    assert_eq!(dq(&manifest(&out), "table_not_found").len(), 1);
}

/// Regression (review): two columns of one period mapped to one delay reason (two
/// measures side by side, one wording listed under the other's code) were both published
/// under that code, two rows per organisation. The file is refused, naming both.
#[test]
fn two_columns_under_one_reason_code_refuse_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture {
        first_reason: "No plan ",
        ..Fixture::default()
    };
    let (out, code, stderr) = load(dir.path(), &[("twice.xlsx", f)]);
    assert_eq!(code, 3, "{stderr}");
    let m = manifest(&out);
    let error = m["publications"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["files"].as_array().unwrap())
        .find_map(|f| f["error"].as_str())
        .unwrap_or_else(|| panic!("{m}"));
    assert!(
        error.starts_with("sheet \"Table 5\" cell F")
            && error.contains(
                "\"No Plan\" and \"No plan\" are both mapped to delay reason \"no_plan\""
            ),
        "{error}"
    );
}

/// Regression (review): a "Total" row inside the trust block (no code) was published as a
/// trust named "Total", so a sum over trusts counted everything twice. It is left out
/// and reported by cell.
#[test]
fn a_totals_row_in_an_organisation_block_is_left_out_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture {
        trust_total_row: true,
        ..Fixture::default()
    };
    let (out, code, stderr) = load(dir.path(), &[("total.xlsx", f)]);
    assert_eq!(code, 0, "{stderr}");
    assert_baseline(&out, "total.xlsx");
    for d in ["sitrep_daily", "sitrep_delay_reasons"] {
        let t = dataset(&out, d);
        assert!(
            !t.col("org_name")
                .iter()
                .any(|n| n.as_deref() == Some("Total")),
            "{d}"
        );
    }
    let m = manifest(&out);
    let w = dq(&m, "totals_row");
    assert_eq!(w.len(), 4, "one per table: {w:?}");
    assert!(
        w.iter().any(|r| r["detail"].as_str().unwrap().ends_with(
            "is a totals row inside an organisation block, not an organisation: left out"
        ) && r["sheet"] == "Table 5"),
        "{w:?}"
    );
}

/// Regression (review): a workbook without a Cover Sheet has no publication date, and an
/// unknown date sorted before every known one, so NHS England's October 2024 workbook
/// (published without a Cover Sheet) loaded after a dated one for its period was kept
/// out, with a warning calling the dated file "a later revision", and the saved state
/// meant it was never looked at again. An unknown date is not an older one: the file
/// that arrived later holds the period, and the warning says why.
#[test]
fn regression_a_workbook_without_a_date_replaces_its_period_when_it_arrives_later() {
    let dir = tempfile::tempdir().unwrap();
    let (out, code, stderr) = load(dir.path(), &[("june.xlsx", Fixture::default())]);
    assert_eq!(code, 0, "{stderr}");
    let undated = Fixture {
        cover: None,
        bump: 100.0,
        ..Fixture::default()
    };
    let later = dir.path().join("later");
    std::fs::create_dir_all(&later).unwrap();
    write(&later.join("june-no-cover.xlsx"), &undated);
    let ae = dir.path().join("ae");
    let (code, _, stderr) = run(&out, &[("sitrep", &later), ("ae", &ae)]);
    assert_eq!(code, 0, "{stderr}");
    let england = |out: &Path| {
        let daily = dataset(out, "sitrep_daily");
        let r = row(&daily, &[("date", "2023-06-01"), ("org_level", "england")]);
        (
            r["nctr"].map(String::from),
            r["source_file"].map(String::from),
        )
    };
    assert_eq!(
        england(&out),
        (Some("363".into()), Some("june-no-cover.xlsx".into()))
    );
    let m = manifest(&out);
    let p = &m["publications"][1]["periods"][0];
    assert_eq!(
        (p["action"].as_str(), p["other_file"].as_str()),
        (Some("replaced"), Some("june.xlsx"))
    );
    let warnings: Vec<&str> = m["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w.as_str())
        .collect();
    assert_eq!(
        warnings,
        [
            "june-no-cover.xlsx: acute 2023-06 replaces june.xlsx, published by an earlier run: june-no-cover.xlsx gives no publication or revision date, so the dates cannot be compared; june-no-cover.xlsx was loaded by a later run"
        ]
    );

    // Both in one folder: the later in name order, not the dated one by default.
    let both = tempfile::tempdir().unwrap();
    let (out, code, stderr) = load(
        both.path(),
        &[
            ("june-a.xlsx", Fixture::default()),
            ("june-b.xlsx", undated),
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        england(&out),
        (Some("363".into()), Some("june-b.xlsx".into()))
    );
    let m = manifest(&out);
    assert_eq!(
        m["warnings"][0],
        "june-a.xlsx: acute 2023-06 is also in june-b.xlsx, which was used: june-b.xlsx gives no publication or revision date, so the dates cannot be compared; june-b.xlsx comes later in name order"
    );
    assert_eq!(m["publications"][1]["files"][0]["status"], "superseded");
}
