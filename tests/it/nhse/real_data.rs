//! Every real workbook and A&E file loads; values are pinned to the cells they came from.

use std::path::PathBuf;
use std::sync::OnceLock;

use super::*;

/// One run over all the real files, shared by the tests below.
fn out() -> &'static PathBuf {
    static OUT: OnceLock<PathBuf> = OnceLock::new();
    OUT.get_or_init(|| {
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("nhse-real-data");
        let _ = std::fs::remove_dir_all(&out);
        let (code, _, stderr) = run(
            &out,
            &[
                ("sitrep", &real_data().join("nhse-discharge-sitrep")),
                ("ae", &real_data().join("nhse-ae-attendances")),
            ],
        );
        assert_eq!(code, 0, "{stderr}");
        out
    })
}

#[test]
fn every_sitrep_workbook_loads_with_its_setting_period_and_dates() {
    let m = manifest(out());
    let sitrep = &m["publications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "sitrep")
        .unwrap()["files"];
    let got: Vec<(String, String, String, String, String)> = sitrep
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or("").to_string();
            (
                s("path").rsplit('/').next().unwrap().to_string(),
                s("status"),
                s("layout"),
                s("period_start"),
                s("revised_on"),
            )
        })
        .collect();
    let want = [
        (
            "acute_december2022.xlsx",
            "loaded",
            "acute",
            "2022-12-01",
            "2023-08-10",
        ),
        (
            "acute_january2024.xlsx",
            "loaded",
            "acute",
            "2024-01-01",
            "",
        ),
        (
            "acute_june2022.xlsx",
            "loaded",
            "acute",
            "2022-06-01",
            "2023-12-14",
        ),
        (
            "acute_june2023.xlsx",
            "loaded",
            "acute",
            "2023-06-01",
            "2023-08-10",
        ),
        (
            "acute_october2023.xlsx",
            "loaded",
            "acute",
            "2023-10-01",
            "",
        ),
        (
            "community_june2023.xlsx",
            "loaded",
            "community",
            "2023-06-01",
            "",
        ),
        (
            "community_october2023.xlsx",
            "loaded",
            "community",
            "2023-10-01",
            "",
        ),
    ];
    let want: Vec<(String, String, String, String, String)> = want
        .iter()
        .map(|(a, b, c, d, e)| {
            (
                a.to_string(),
                b.to_string(),
                c.to_string(),
                d.to_string(),
                e.to_string(),
            )
        })
        .collect();
    assert_eq!(got, want);
}

/// `(file, cell it came from, dataset, filters, column, value)`; `None` = the cell is `-`.
type Pin = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
    Option<&'static str>,
);

const PINS: &[Pin] = &[
    // acute June 2022 (3 columns per day; revised December 2023)
    (
        "acute_june2022.xlsx",
        "'Table 2'!E5",
        "sitrep_daily",
        &[
            ("setting", "acute"),
            ("date", "2022-06-01"),
            ("org_level", "england"),
        ],
        "nctr",
        Some("23709"),
    ),
    (
        "acute_june2022.xlsx",
        "'Table 2'!F5",
        "sitrep_daily",
        &[
            ("setting", "acute"),
            ("date", "2022-06-01"),
            ("org_level", "england"),
        ],
        "discharged",
        Some("12252"),
    ),
    (
        "acute_june2022.xlsx",
        "'Table 2'!G5",
        "sitrep_daily",
        &[
            ("setting", "acute"),
            ("date", "2022-06-01"),
            ("org_level", "england"),
        ],
        "remaining_nctr",
        Some("11457"),
    ),
    (
        "acute_june2022.xlsx",
        "'Table 2'!AU63",
        "sitrep_daily",
        &[
            ("setting", "acute"),
            ("date", "2022-06-15"),
            ("org_code", "RDE"),
        ],
        "nctr",
        Some("267"),
    ),
    (
        "acute_june2022.xlsx",
        "'Table 2'!E151",
        "sitrep_daily",
        &[
            ("setting", "acute"),
            ("date", "2022-06-01"),
            ("org_code", "RDU"),
        ],
        "nctr",
        None,
    ),
    (
        "acute_june2022.xlsx",
        "'Table 3'!E6",
        "sitrep_bed_days",
        &[
            ("setting", "acute"),
            ("report_month", "2022-06-01"),
            ("week_commencing", "2022-05-27"),
            ("org_level", "england"),
            ("los_threshold", "7"),
        ],
        "additional_bed_days",
        Some("99183"),
    ),
    (
        "acute_june2022.xlsx",
        "'Table 4'!G18",
        "sitrep_destinations",
        &[
            ("setting", "acute"),
            ("month", "2022-06-01"),
            ("org_code", "QMM"),
            (
                "destination_label",
                "P1 - Domestic home with reablement support",
            ),
        ],
        "discharges",
        Some("260"),
    ),
    (
        "acute_june2022.xlsx",
        "'Table 5'!F6",
        "sitrep_delay_reasons",
        &[
            ("setting", "acute"),
            ("period_start", "2022-06-01"),
            ("org_level", "england"),
            ("reason_code", "equipment_adaptations"),
        ],
        "avg_patients",
        Some("168.0"),
    ),
    (
        "acute_june2022.xlsx",
        "'Table 5'!E152",
        "sitrep_delay_reasons",
        &[
            ("setting", "acute"),
            ("period_start", "2022-06-01"),
            ("org_code", "RDU"),
            ("reason_code", "medical_decision"),
        ],
        "avg_patients",
        None,
    ),
    // acute December 2022
    (
        "acute_december2022.xlsx",
        "'Table 2'!E6",
        "sitrep_daily",
        &[
            ("setting", "acute"),
            ("date", "2022-12-01"),
            ("org_level", "england"),
        ],
        "nctr",
        Some("25130"),
    ),
    (
        "acute_december2022.xlsx",
        "'Table 2'!AV64",
        "sitrep_daily",
        &[
            ("setting", "acute"),
            ("date", "2022-12-15"),
            ("org_code", "RDE"),
        ],
        "discharged",
        Some("146"),
    ),
    (
        "acute_december2022.xlsx",
        "'Table 3'!S16",
        "sitrep_bed_days",
        &[
            ("setting", "acute"),
            ("report_month", "2022-12-01"),
            ("week_commencing", "2022-12-26"),
            ("org_code", "QUE"),
            ("los_threshold", "21"),
        ],
        "additional_bed_days",
        Some("2313"),
    ),
    (
        "acute_december2022.xlsx",
        "'Table 4'!G18",
        "sitrep_destinations",
        &[
            ("setting", "acute"),
            ("month", "2022-12-01"),
            ("org_code", "QMM"),
            ("pathway", "P1"),
            (
                "destination_label",
                "P1 - Domestic home with reablement support",
            ),
        ],
        "discharges",
        Some("481"),
    ),
    (
        "acute_december2022.xlsx",
        "'Table 5'!F6",
        "sitrep_delay_reasons",
        &[
            ("setting", "acute"),
            ("period_start", "2022-12-01"),
            ("org_level", "england"),
            ("reason_code", "equipment_adaptations"),
        ],
        "avg_patients",
        Some("205.0"),
    ),
    // acute June 2023
    (
        "acute_june2023.xlsx",
        "'Table 2'!E6",
        "sitrep_daily",
        &[
            ("setting", "acute"),
            ("date", "2023-06-01"),
            ("org_level", "england"),
        ],
        "nctr",
        Some("24005"),
    ),
    (
        "acute_june2023.xlsx",
        "'Table 2'!AU64",
        "sitrep_daily",
        &[
            ("setting", "acute"),
            ("date", "2023-06-15"),
            ("org_code", "RDE"),
        ],
        "nctr",
        Some("283"),
    ),
    (
        "acute_june2023.xlsx",
        "'Table 3'!S16",
        "sitrep_bed_days",
        &[
            ("setting", "acute"),
            ("report_month", "2023-06-01"),
            ("week_commencing", "2023-06-26"),
            ("org_code", "QUE"),
            ("los_threshold", "21"),
        ],
        "additional_bed_days",
        Some("1636"),
    ),
    (
        "acute_june2023.xlsx",
        "'Table 4'!G18",
        "sitrep_destinations",
        &[
            ("setting", "acute"),
            ("month", "2023-06-01"),
            ("org_code", "QMM"),
            ("pathway", "P1"),
            (
                "destination_label",
                "P1 - Domestic home with reablement support",
            ),
        ],
        "discharges",
        Some("515"),
    ),
    (
        "acute_june2023.xlsx",
        "'Table 5'!F6",
        "sitrep_delay_reasons",
        &[
            ("setting", "acute"),
            ("period_start", "2023-06-01"),
            ("org_level", "england"),
            ("reason_code", "equipment_adaptations"),
        ],
        "avg_patients",
        Some("234.0"),
    ),
    // acute October 2023 (extra lookup sheets before the Cover Sheet; rows one higher)
    (
        "acute_october2023.xlsx",
        "'Table 2'!E5",
        "sitrep_daily",
        &[
            ("setting", "acute"),
            ("date", "2023-10-01"),
            ("org_level", "england"),
        ],
        "nctr",
        Some("19103"),
    ),
    (
        "acute_october2023.xlsx",
        "'Table 2'!G5",
        "sitrep_daily",
        &[
            ("setting", "acute"),
            ("date", "2023-10-01"),
            ("org_level", "england"),
        ],
        "remaining_nctr",
        Some("12673"),
    ),
    (
        "acute_october2023.xlsx",
        "'Table 2'!AV63",
        "sitrep_daily",
        &[
            ("setting", "acute"),
            ("date", "2023-10-15"),
            ("org_code", "RDE"),
        ],
        "discharged",
        Some("79"),
    ),
    (
        "acute_october2023.xlsx",
        "'Table 3'!P16",
        "sitrep_bed_days",
        &[
            ("setting", "acute"),
            ("report_month", "2023-10-01"),
            ("week_commencing", "2023-10-23"),
            ("org_code", "QUE"),
            ("los_threshold", "21"),
        ],
        "additional_bed_days",
        Some("1379"),
    ),
    (
        "acute_october2023.xlsx",
        "'Table 4'!G17",
        "sitrep_destinations",
        &[
            ("setting", "acute"),
            ("month", "2023-10-01"),
            ("org_code", "QMM"),
            ("pathway", "P1"),
            (
                "destination_label",
                "P1 - Domestic home with reablement support",
            ),
        ],
        "discharges",
        Some("483"),
    ),
    // acute January 2024
    (
        "acute_january2024.xlsx",
        "'Table 2'!E5",
        "sitrep_daily",
        &[
            ("setting", "acute"),
            ("date", "2024-01-01"),
            ("org_level", "england"),
        ],
        "nctr",
        Some("17756"),
    ),
    (
        "acute_january2024.xlsx",
        "'Table 2'!F5",
        "sitrep_daily",
        &[
            ("setting", "acute"),
            ("date", "2024-01-01"),
            ("org_level", "england"),
        ],
        "discharged",
        Some("5795"),
    ),
    (
        "acute_january2024.xlsx",
        "'Table 2'!AU63",
        "sitrep_daily",
        &[
            ("setting", "acute"),
            ("date", "2024-01-15"),
            ("org_code", "RDE"),
        ],
        "nctr",
        Some("248"),
    ),
    (
        "acute_january2024.xlsx",
        "'Table 3'!P16",
        "sitrep_bed_days",
        &[
            ("setting", "acute"),
            ("report_month", "2024-01-01"),
            ("week_commencing", "2024-01-22"),
            ("org_code", "QUE"),
            ("los_threshold", "21"),
        ],
        "additional_bed_days",
        Some("1510"),
    ),
    (
        "acute_january2024.xlsx",
        "'Table 5'!F6",
        "sitrep_delay_reasons",
        &[
            ("setting", "acute"),
            ("period_start", "2024-01-01"),
            ("org_level", "england"),
            ("reason_code", "equipment_adaptations"),
        ],
        "avg_patients",
        Some("241.5"),
    ),
    // community June 2023 (England row "ENGLAND"; no month title above Table 5)
    (
        "community_june2023.xlsx",
        "'Table 2'!E5",
        "sitrep_daily",
        &[
            ("setting", "community"),
            ("date", "2023-06-01"),
            ("org_level", "england"),
        ],
        "nctr",
        Some("2034"),
    ),
    (
        "community_june2023.xlsx",
        "'Table 2'!G5",
        "sitrep_daily",
        &[
            ("setting", "community"),
            ("date", "2023-06-01"),
            ("org_level", "england"),
        ],
        "remaining_nctr",
        Some("1767"),
    ),
    (
        "community_june2023.xlsx",
        "'Table 2'!AU63",
        "sitrep_daily",
        &[
            ("setting", "community"),
            ("date", "2023-06-15"),
            ("org_code", "NAX"),
        ],
        "nctr",
        Some("3"),
    ),
    (
        "community_june2023.xlsx",
        "'Table 3'!N15",
        "sitrep_bed_days",
        &[
            ("setting", "community"),
            ("report_month", "2023-06-01"),
            ("week_commencing", "2023-06-26"),
            ("org_code", "QHG"),
            ("los_threshold", "21"),
        ],
        "additional_bed_days",
        None,
    ),
    (
        "community_june2023.xlsx",
        "'Table 4'!G16",
        "sitrep_destinations",
        &[
            ("setting", "community"),
            ("month", "2023-06-01"),
            ("org_code", "QUE"),
            (
                "destination_label",
                "P1 - Domestic home, new reablement support",
            ),
        ],
        "discharges",
        Some("53"),
    ),
    (
        "community_june2023.xlsx",
        "'Table 5'!F4",
        "sitrep_delay_reasons",
        &[
            ("setting", "community"),
            ("period_start", "2023-06-01"),
            ("org_level", "england"),
            ("reason_code", "therapy_decision"),
        ],
        "avg_patients",
        Some("66.8"),
    ),
    // community October 2023 (Table 5 one column further left; narrow no-break spaces in Table 4)
    (
        "community_october2023.xlsx",
        "'Table 2'!E6",
        "sitrep_daily",
        &[
            ("setting", "community"),
            ("date", "2023-10-01"),
            ("org_level", "england"),
        ],
        "nctr",
        Some("1816"),
    ),
    (
        "community_october2023.xlsx",
        "'Table 2'!AV64",
        "sitrep_daily",
        &[
            ("setting", "community"),
            ("date", "2023-10-15"),
            ("org_code", "NAX"),
        ],
        "discharged",
        Some("0"),
    ),
    (
        "community_october2023.xlsx",
        "'Table 3'!L15",
        "sitrep_bed_days",
        &[
            ("setting", "community"),
            ("report_month", "2023-10-01"),
            ("week_commencing", "2023-10-23"),
            ("org_code", "QHG"),
            ("los_threshold", "21"),
        ],
        "additional_bed_days",
        None,
    ),
    (
        "community_october2023.xlsx",
        "'Table 4'!G17",
        "sitrep_destinations",
        &[
            ("setting", "community"),
            ("month", "2023-10-01"),
            ("org_code", "QUE"),
            (
                "destination_label",
                "P1 - Domestic home, new reablement support",
            ),
        ],
        "discharges",
        Some("32"),
    ),
    (
        "community_october2023.xlsx",
        "'Table 5'!E4",
        "sitrep_delay_reasons",
        &[
            ("setting", "community"),
            ("period_start", "2023-10-01"),
            ("org_level", "england"),
            ("reason_code", "therapy_decision"),
        ],
        "avg_patients",
        Some("51.25"),
    ),
    (
        "community_october2023.xlsx",
        "'Table 5'!D59",
        "sitrep_delay_reasons",
        &[
            ("setting", "community"),
            ("period_start", "2023-10-01"),
            ("org_code", "NMV"),
            ("reason_code", "medical_decision"),
        ],
        "avg_patients",
        None,
    ),
];

#[test]
fn values_match_the_cells_they_came_from() {
    let mut tables = std::collections::BTreeMap::new();
    for (file, cell, ds, filters, column, want) in PINS {
        let t = tables.entry(*ds).or_insert_with(|| dataset(out(), ds));
        let mut f: Vec<(&str, &str)> = filters.to_vec();
        f.push(("source_file", file));
        let r = row(t, &f);
        assert_eq!(r[column], *want, "{file} {cell} → {ds}.{column}");
    }
    let per_file = |f: &str| PINS.iter().filter(|p| p.0 == f).count();
    for f in [
        "acute_june2022.xlsx",
        "acute_december2022.xlsx",
        "acute_june2023.xlsx",
        "acute_october2023.xlsx",
        "acute_january2024.xlsx",
        "community_june2023.xlsx",
        "community_october2023.xlsx",
    ] {
        assert!(per_file(f) >= 5, "{f} has fewer than five pinned cells");
    }
}

#[test]
fn organisations_keep_their_level_region_and_icb() {
    let t = dataset(out(), "sitrep_daily");
    let icb = row(
        &t,
        &[
            ("source_file", "acute_june2022.xlsx"),
            ("date", "2022-06-01"),
            ("org_code", "QUE"),
        ],
    );
    assert_eq!(icb["org_level"], Some("icb"));
    assert_eq!(icb["icb_code"], Some("QUE"));
    assert_eq!(icb["region"], Some("EAST OF ENGLAND"));
    assert_eq!(
        icb["org_name"],
        Some("NHS CAMBRIDGESHIRE AND PETERBOROUGH INTEGRATED CARE BOARD")
    );
    assert_eq!(icb["published_on"], Some("2022-07-14"));
    let region = row(
        &t,
        &[
            ("source_file", "acute_june2022.xlsx"),
            ("date", "2022-06-01"),
            ("org_level", "region"),
            ("org_name", "LONDON"),
        ],
    );
    assert_eq!(region["org_code"], None);
    assert_eq!(region["nctr"], Some("2878"), "'Table 2'!E7");
    let trust = row(
        &t,
        &[
            ("source_file", "acute_june2022.xlsx"),
            ("date", "2022-06-01"),
            ("org_code", "RAJ"),
        ],
    );
    assert_eq!(trust["org_level"], Some("trust"));
    assert_eq!(
        trust["icb_code"], None,
        "the publication does not give a trust's ICB"
    );
    // 31 days × (1 England + 7 regions + 42 ICBs + 121 trusts) in December 2022.
    let dec = t
        .col("source_file")
        .iter()
        .filter(|f| f.as_deref() == Some("acute_december2022.xlsx"))
        .count();
    assert_eq!(dec, 31 * (1 + 7 + 42 + 121));
}

#[test]
fn community_pathways_and_reasons_map_to_stable_codes() {
    let d = dataset(out(), "sitrep_destinations");
    // 'Table 4'!H5 of October 2023 has a narrow no-break space after the dash.
    let r = row(
        &d,
        &[
            ("source_file", "community_october2023.xlsx"),
            ("org_level", "england"),
            (
                "destination_label",
                "P1 –\u{202f}Domestic home or setting to continue with rehabilitation, reablement and recovery.",
            ),
        ],
    );
    assert_eq!(r["pathway"], Some("P1"));
    assert_eq!(r["discharges"], Some("745"), "'Table 4'!H6");
    let unknown: usize = d.col("pathway").iter().filter(|p| p.is_none()).count();
    assert_eq!(unknown, 0, "every real destination label has a pathway");
    let reasons = dataset(out(), "sitrep_delay_reasons");
    let unmapped: std::collections::BTreeSet<&str> = (0..reasons.rows)
        .filter(|&i| reasons.col("reason_code")[i].is_none())
        .filter_map(|i| reasons.col("reason_label")[i].as_deref())
        .collect();
    assert!(unmapped.is_empty(), "unmapped reasons: {unmapped:?}");
    let m = manifest(out());
    assert!(
        !m["data_quality"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["check"] == "unknown_label"),
        "no unknown labels in the real workbooks"
    );
    // Regression (review): October 2023's community Table 5 has two start-of-care
    // measures side by side ('Table 5'!J and K); both were published as
    // p1_start_of_care, two rows per organisation a sum or pivot added together.
    for (code, value) in [
        ("p1_start_of_care", "467.25"),
        ("p1_start_of_care_not_continuation", "96.25"),
    ] {
        let r = row(
            &reasons,
            &[
                ("source_file", "community_october2023.xlsx"),
                ("org_level", "england"),
                ("reason_code", code),
            ],
        );
        assert_eq!(r["avg_patients"], Some(value), "{code}");
    }
    let mut keys = std::collections::BTreeSet::new();
    for i in 0..reasons.rows {
        let key: Vec<Option<&str>> = [
            "setting",
            "period_start",
            "org_level",
            "org_code",
            "org_name",
            "reason_code",
        ]
        .iter()
        .map(|c| reasons.col(c)[i].as_deref())
        .collect();
        assert!(keys.insert(key.clone()), "two rows for {key:?}");
    }
}

#[test]
fn sums_and_codes_are_reported_not_failed() {
    let m = manifest(out());
    let dq = m["data_quality"].as_array().unwrap();
    let find = |file: &str, sheet: &str, check: &str| {
        dq.iter()
            .find(|r| r["file"] == file && r["sheet"] == sheet && r["check"] == check)
            .unwrap_or_else(|| panic!("no {check} for {file} {sheet}"))
    };
    let r = find("acute_june2022.xlsx", "Table 2", "sum_icbs_to_england");
    assert!(
        r["detail"].as_str().unwrap().starts_with(
            "58 of 90 cells differ from the sum of their parts (the table's notes say lower levels exclude some patients): F5 ENGLAND (Type 1 Trusts) 12252 vs sum 12222"
        ),
        "{r}"
    );
    let r = find("community_june2023.xlsx", "Table 2", "ods_code_format");
    assert_eq!(r["count"], 2);
    assert!(
        r["detail"]
            .as_str()
            .unwrap()
            .contains("'Table 2'!C87 \"507\""),
        "{r}"
    );
    let r = find("acute_june2022.xlsx", "Table 5", "invalid_values");
    assert_eq!(r["count"], 16, "the #DIV/0! cells of RDU");
}

#[test]
fn ae_totals_per_month_are_pinned() {
    let t = dataset(out(), "ae_monthly");
    let totals = |month: &str| {
        let rows: Vec<usize> = (0..t.rows)
            .filter(|&i| t.col("month")[i].as_deref() == Some(month))
            .collect();
        let sum = |c: &str| -> i64 { rows.iter().map(|&i| t.i64s(c)[i].unwrap()).sum() };
        (
            rows.len(),
            sum("attendances"),
            sum("over_4h"),
            sum("emergency_admissions"),
        )
    };
    assert_eq!(totals("2016-04-01"), (344, 1_867_781, 186_122, 338_213));
    assert_eq!(totals("2016-12-01"), (346, 1_944_567, 268_818, 370_548));
    assert_eq!(totals("2017-12-01"), (362, 2_003_954, 300_893, 393_511));
    let rf4 = row(
        &t,
        &[
            ("month", "2016-04-01"),
            ("org_code", "RF4"),
            ("department_type", "1"),
        ],
    );
    assert_eq!(rf4["attendances"], Some("18788"));
    assert_eq!(rf4["over_4h"], Some("4082"));
    assert_eq!(rf4["emergency_admissions"], Some("4074"));
    assert_eq!(rf4["layout"], Some("tidy"));
    assert_eq!(
        rf4["dta_over_12h"], None,
        "the tidy layout has no DTA waits"
    );
    assert_eq!(t.rows, 7283);
}

#[test]
fn every_publication_dataset_matches_its_schema_file_column_for_column() {
    let mut checked = 0;
    for d in joinedup::publish::Dataset::ALL
        .into_iter()
        .filter(|d| d.is_publication())
    {
        assert_matches_schema_file(out(), d);
        checked += 1;
    }
    assert_eq!(checked, 5);
}
