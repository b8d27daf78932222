//! Builds small sitrep workbooks in NHS England's shape (with rust_xlsxwriter), one
//! variation per fixture: shifted rows, an extra sheet, a renamed label, a missing day,
//! no Cover Sheet, the 4-column daily layout, a broken table.

use std::path::Path;

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet};

/// `(year, month, day)`.
pub type Ymd = (u16, u8, u8);

/// What to vary.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// `(published, revised)` as `(y, m, d)`; `None` = no Cover Sheet.
    pub cover: Option<(Ymd, Option<Ymd>)>,
    /// The period the Cover Sheet states, first and last day.
    pub cover_period: (Ymd, Ymd),
    /// Blank rows inserted above every table (a shifted header row).
    pub shift_rows: u32,
    /// Blank columns inserted left of every table.
    pub shift_cols: u16,
    /// Add lookup sheets before the Cover Sheet, and a Contents sheet.
    pub extra_sheets: bool,
    /// The label of the first delay reason (normally "Awaiting transport").
    pub first_reason: &'static str,
    /// Trust RAP did not submit on 2 June: its cells are "-".
    pub missing_day: bool,
    /// The spring 2022 daily layout: 4 columns per day and a code row.
    pub four_columns: bool,
    /// Table 5 without its England row (its layout cannot be understood).
    pub broken_table_5: bool,
    /// Table 3 titled in words the label mapping does not list (it is not found).
    pub reworded_table_3: bool,
    /// Added to every trust count (a revised workbook with different figures).
    pub bump: f64,
    /// A "Total" row (no code, 999 in every cell) after the trusts of every table.
    pub trust_total_row: bool,
    /// Every figure a formula without a saved result, as a program (not Excel) writes
    /// one: `<c><f>=…</f></c>`, no `<v>`.
    pub unsaved_formulas: bool,
    /// With `extra_sheets`, a formula without a saved result on the Contents sheet (a link
    /// a program wrote), which no table is read from.
    pub contents_formula: bool,
    /// The ICB and trust blocks with their code and name columns the other way round
    /// (`Region | ICB Name | ICB Code`), headers and values.
    pub names_before_codes: bool,
}

impl Default for Fixture {
    fn default() -> Self {
        Fixture {
            cover: Some(((2023, 7, 13), None)),
            cover_period: ((2023, 6, 1), (2023, 6, 30)),
            shift_rows: 0,
            shift_cols: 0,
            extra_sheets: false,
            first_reason: "Awaiting transport",
            missing_day: false,
            four_columns: false,
            broken_table_5: false,
            reworded_table_3: false,
            bump: 0.0,
            trust_total_row: false,
            unsaved_formulas: false,
            contents_formula: false,
            names_before_codes: false,
        }
    }
}

const TRUSTS: [(&str, &str, usize); 3] = [
    (
        "R1K",
        "LONDON NORTH WEST UNIVERSITY HEALTHCARE NHS TRUST",
        0,
    ),
    ("RAL", "ROYAL FREE LONDON NHS FOUNDATION TRUST", 0),
    ("RAP", "NORTH MIDDLESEX UNIVERSITY HOSPITAL NHS TRUST", 1),
];
const ICBS: [(&str, &str); 2] = [
    ("QRV", "NHS NORTH WEST LONDON INTEGRATED CARE BOARD"),
    ("QMJ", "NHS NORTH CENTRAL LONDON INTEGRATED CARE BOARD"),
];

/// One table: period cells, header labels, and each trust's values per column.
struct Spec {
    title: &'static str,
    periods: Vec<(usize, PeriodCell)>,
    labels: Vec<String>,
    codes: Option<Vec<String>>,
    values: Vec<Vec<Option<f64>>>,
}

enum PeriodCell {
    Date(u16, u8, u8),
    Text(String),
}

fn daily(f: &Fixture) -> Spec {
    let measures: Vec<&str> = if f.four_columns {
        vec![
            "Number of patients who no longer meet the criteria to reside",
            "Number of patients discharged by 17:00",
            "Number of patients discharged between 17:01 and 23:59",
            "Number of patients remaining in hospital who no longer meet the criteria to reside",
        ]
    } else {
        vec![
            "Number of patients who no longer meet the criteria to reside",
            "Number of patients discharged",
            "Number of patients remaining in hospital who no longer meet the criteria to reside",
        ]
    };
    let width = measures.len();
    let mut spec = Spec {
        title: "Table 2: Number of patients who no longer meet criteria to reside and number of patients who were / were not discharged",
        periods: Vec::new(),
        labels: Vec::new(),
        codes: f.four_columns.then(Vec::new),
        values: vec![Vec::new(); 3],
    };
    for d in 1..=3u8 {
        spec.periods
            .push((spec.labels.len(), PeriodCell::Date(2023, 6, d)));
        for (k, m) in measures.iter().enumerate() {
            spec.labels.push(m.to_string());
            if let Some(codes) = &mut spec.codes {
                codes.push(
                    [
                        "DIS002_TOTAL",
                        "DIS003_TOTAL",
                        "DIS003b_TOTAL",
                        "DIS012_TOTAL",
                    ][k]
                        .to_string(),
                );
            }
        }
        for (t, values) in spec.values.iter_mut().enumerate() {
            let nctr = 10.0 * (t as f64 + 1.0) + f64::from(d) + f.bump;
            let (early, late) = (2.0 * (t as f64 + 1.0), 1.0);
            let row: Vec<f64> = if width == 4 {
                vec![nctr, early, late, nctr - early - late]
            } else {
                vec![nctr, early + late, nctr - early - late]
            };
            let missing = f.missing_day && t == 2 && d == 2;
            values.extend(row.into_iter().map(|v| (!missing).then_some(v)));
        }
    }
    spec
}

fn bed_days(f: &Fixture) -> Spec {
    let mut spec = Spec {
        title: "Table 3: Number of additional days in total patients have remained in hospital since the criteria to be discharged decision was made",
        periods: Vec::new(),
        labels: Vec::new(),
        codes: None,
        values: vec![Vec::new(); 3],
    };
    for (w, wc) in ["29/05/2023", "05/06/2023"].iter().enumerate() {
        spec.periods.push((
            spec.labels.len(),
            PeriodCell::Text(format!("w/c {wc} (daily snapshot)")),
        ));
        for (k, n) in [7, 14, 21].iter().enumerate() {
            spec.labels.push(format!(
                "Number of additional bed days, patients with length of stay of {n}+ days"
            ));
            for (t, values) in spec.values.iter_mut().enumerate() {
                values.push(Some(
                    100.0 * (t as f64 + 1.0) - 10.0 * k as f64 + w as f64 + f.bump,
                ));
            }
        }
    }
    spec
}

fn destinations(f: &Fixture) -> Spec {
    let labels = [
        "P0 - Domestic home without reablement support",
        "P1 - Domestic home with reablement support",
        "P3b - Care Home\n(existing resident discharged back)",
    ];
    Spec {
        title: "Table 4: Month total number of patients discharged by their intended discharge destination",
        periods: vec![(
            0,
            PeriodCell::Text("June 2023 - Total number of patients discharged".into()),
        )],
        labels: labels.iter().map(|s| s.to_string()).collect(),
        codes: None,
        values: (0..3)
            .map(|t| {
                (0..3)
                    .map(|k| Some(50.0 * (t as f64 + 1.0) + k as f64 + f.bump))
                    .collect()
            })
            .collect(),
    }
}

fn reasons(f: &Fixture) -> Spec {
    let labels = [
        f.first_reason,
        "No Plan",
        "Awaiting medicines to take home ",
    ];
    Spec {
        title: "Table 5: Weekly snapshot average of the total number of people per day with length of stay 14 days or over who no longer meet the criteria to reside but were not discharged, broken down by the reasons why they continued to reside",
        periods: vec![(
            0,
            PeriodCell::Text(
                "June 2023 - Average number of people per day with length of stay 14 days or over"
                    .into(),
            ),
        )],
        labels: labels.iter().map(|s| s.to_string()).collect(),
        codes: None,
        values: (0..3)
            .map(|t| {
                (0..3)
                    .map(|k| Some(0.25 * (t as f64 + 1.0) + k as f64 + f.bump))
                    .collect()
            })
            .collect(),
    }
}

fn sum(values: &[&Vec<Option<f64>>], j: usize) -> Option<f64> {
    let present: Vec<f64> = values.iter().filter_map(|v| v[j]).collect();
    (!present.is_empty()).then(|| present.iter().sum())
}

/// Writes a figure (`-` for none), as a formula when `formulas`.
fn write_value(ws: &mut Worksheet, r: u32, c: u16, v: Option<f64>, formulas: bool) {
    match v {
        Some(n) if formulas => ws.write_formula(r, c, format!("={n}").as_str()).map(|_| ()),
        Some(n) => ws.write_number(r, c, n).map(|_| ()),
        None => ws.write_string(r, c, "-").map(|_| ()),
    }
    .unwrap();
}

fn table(ws: &mut Worksheet, f: &Fixture, spec: &Spec, with_england: bool, date_format: &Format) {
    let r0 = f.shift_rows;
    let c0 = f.shift_cols;
    let (region_c, code_c, name_c, data_c) = (c0 + 1, c0 + 2, c0 + 3, c0 + 4);
    let title = if f.reworded_table_3 && spec.title.starts_with("Table 3") {
        "Table 3: Extra hospital time after the decision"
    } else {
        spec.title
    };
    ws.write_string(r0, region_c, title).unwrap();
    ws.write_string(r0 + 1, region_c, "Contents").unwrap();
    for (j, p) in &spec.periods {
        let c = data_c + *j as u16;
        match p {
            PeriodCell::Date(y, m, d) => {
                let dt = ExcelDateTime::from_ymd(*y, *m, *d).unwrap();
                ws.write_datetime_with_format(r0 + 2, c, dt, date_format)
                    .unwrap();
            }
            PeriodCell::Text(t) => {
                ws.write_string(r0 + 2, c, t).unwrap();
            }
        }
    }
    ws.write_string(
        r0 + 3,
        region_c,
        "Notes: \n1. Due to disclosure risks, trust-level and ICB-level data exclude patients who have been discharged to a hospice.",
    )
    .unwrap();
    for (j, l) in spec.labels.iter().enumerate() {
        ws.write_string(r0 + 3, data_c + j as u16, l).unwrap();
    }
    let mut r = r0 + 4;
    if let Some(codes) = &spec.codes {
        for (j, code) in codes.iter().enumerate() {
            ws.write_string(r, data_c + j as u16, code).unwrap();
        }
        r += 1;
    }
    let all: Vec<&Vec<Option<f64>>> = spec.values.iter().collect();
    let n = spec.labels.len();
    if with_england {
        ws.write_string(r, name_c, "ENGLAND (Type 1 Trusts)")
            .unwrap();
        for j in 0..n {
            write_value(ws, r, data_c + j as u16, sum(&all, j), f.unsaved_formulas);
        }
        r += 1;
    }
    ws.write_string(r, name_c, "LONDON").unwrap();
    for j in 0..n {
        write_value(ws, r, data_c + j as u16, sum(&all, j), f.unsaved_formulas);
    }
    r += 2;
    // The blocks' code and name columns (the England row's names stay where they are).
    let (code_c, name_c) = if f.names_before_codes {
        (name_c, code_c)
    } else {
        (code_c, name_c)
    };
    for (header, level) in [(("ICB Code", "ICB Name"), 0), (("Org Code", "Org Name"), 1)] {
        ws.write_string(r, region_c, "Region").unwrap();
        ws.write_string(r, code_c, header.0).unwrap();
        ws.write_string(r, name_c, header.1).unwrap();
        r += 1;
        if level == 0 {
            for (i, (code, name)) in ICBS.iter().enumerate() {
                ws.write_string(r, region_c, "LONDON").unwrap();
                ws.write_string(r, code_c, *code).unwrap();
                ws.write_string(r, name_c, *name).unwrap();
                let parts: Vec<&Vec<Option<f64>>> = TRUSTS
                    .iter()
                    .zip(&spec.values)
                    .filter(|((.., icb), _)| *icb == i)
                    .map(|(_, v)| v)
                    .collect();
                for j in 0..n {
                    write_value(ws, r, data_c + j as u16, sum(&parts, j), f.unsaved_formulas);
                }
                r += 1;
            }
        } else {
            for ((code, name, _), values) in TRUSTS.iter().zip(&spec.values) {
                ws.write_string(r, region_c, "LONDON").unwrap();
                ws.write_string(r, code_c, *code).unwrap();
                ws.write_string(r, name_c, *name).unwrap();
                for (j, v) in values.iter().enumerate() {
                    write_value(ws, r, data_c + j as u16, *v, f.unsaved_formulas);
                }
                r += 1;
            }
            if f.trust_total_row {
                ws.write_string(r, name_c, "Total").unwrap();
                for j in 0..n {
                    write_value(ws, r, data_c + j as u16, Some(999.0), f.unsaved_formulas);
                }
                r += 1;
            }
        }
        r += 1;
    }
    ws.write_string(r + 1, region_c, "Source: NHS England, fixture")
        .unwrap();
}

/// Writes a fixture workbook.
pub fn write(path: &Path, f: &Fixture) {
    let mut wb = Workbook::new();
    let date_format = Format::new().set_num_format("dd/mm/yyyy");
    if f.extra_sheets {
        let ws = wb.add_worksheet();
        ws.set_name("Lkp - Dates").unwrap();
        ws.write_string(0, 0, "Data month").unwrap();
        ws.write_string(0, 1, "Publication Date").unwrap();
        ws.write_datetime_with_format(
            1,
            0,
            ExcelDateTime::from_ymd(2023, 6, 1).unwrap(),
            &date_format,
        )
        .unwrap();
    }
    if let Some((published, revised)) = f.cover {
        let ws = wb.add_worksheet();
        ws.set_name("Cover Sheet").unwrap();
        ws.write_string(1, 1, "Title:").unwrap();
        ws.write_string(1, 2, "Acute Daily Discharge Situation Report ")
            .unwrap();
        ws.write_string(3, 1, "Period:").unwrap();
        for (c, (y, m, d)) in [(2, f.cover_period.0), (4, f.cover_period.1)] {
            let dt = ExcelDateTime::from_ymd(y, m, d).unwrap();
            ws.write_datetime_with_format(3, c, dt, &date_format)
                .unwrap();
        }
        ws.write_string(3, 3, "-").unwrap();
        ws.write_string(6, 1, "Published:").unwrap();
        ws.write_datetime_with_format(
            6,
            2,
            ExcelDateTime::from_ymd(published.0, published.1, published.2).unwrap(),
            &date_format,
        )
        .unwrap();
        ws.write_string(7, 1, "Revised:").unwrap();
        match revised {
            Some((y, m, d)) => {
                ws.write_datetime_with_format(
                    7,
                    2,
                    ExcelDateTime::from_ymd(y, m, d).unwrap(),
                    &date_format,
                )
                .unwrap();
            }
            None => {
                ws.write_string(7, 2, "-").unwrap();
            }
        }
        ws.write_string(8, 1, "Status:").unwrap();
        ws.write_string(8, 2, "Published").unwrap();
    }
    if f.extra_sheets {
        let ws = wb.add_worksheet();
        ws.set_name("Contents").unwrap();
        ws.set_formula_result_default("");
        if f.contents_formula {
            ws.write_formula(4, 1, "=HYPERLINK(\"#'Table 2'!A1\",\"Table 2\")")
                .unwrap();
        }
        ws.write_string(3, 1, "Table 2").unwrap();
        ws.write_string(
            3,
            2,
            "Number of patients who no longer meet criteria to reside and number of patients who were / were not discharged",
        )
        .unwrap();
    }
    let specs = [
        ("Table 2", daily(f)),
        ("Table 3", bed_days(f)),
        ("Table 4", destinations(f)),
        ("Table 5", reasons(f)),
    ];
    for (name, spec) in &specs {
        let ws = wb.add_worksheet();
        ws.set_name(*name).unwrap();
        ws.set_formula_result_default("");
        let with_england = !(f.broken_table_5 && *name == "Table 5");
        table(ws, f, spec, with_england, &date_format);
    }
    wb.save(path).unwrap();
    if f.unsaved_formulas || f.contents_formula {
        strip_formula_results(path);
    }
}

/// Takes the (empty) saved results off every formula cell of the workbook at `path`:
/// `<c r="E5" t="str"><f>=5</f><v></v></c>` becomes `<c r="E5"><f>=5</f></c>`, a
/// formula never calculated.
fn strip_formula_results(path: &Path) {
    use std::io::{Read, Write};
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut parts: Vec<(String, Vec<u8>)> = Vec::new();
    for i in 0..archive.len() {
        let mut part = archive.by_index(i).unwrap();
        let mut bytes = Vec::new();
        part.read_to_end(&mut bytes).unwrap();
        let name = part.name().unwrap().to_string();
        if name.starts_with("xl/worksheets/") {
            let text = String::from_utf8(bytes).unwrap();
            bytes = text
                .replace(" t=\"str\"><f>", "><f>")
                .replace("</f><v></v>", "</f>")
                .into_bytes();
        }
        parts.push((name, bytes));
    }
    let mut out = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, bytes) in parts {
        out.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(&bytes).unwrap();
    }
    out.finish().unwrap();
}
