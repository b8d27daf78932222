//! The NHS England label mapping file (`pipelines/mappings/nhse_labels.toml`): which
//! published wording means which table, column, pathway or reason code.
//!
//! NHS England rewords its workbooks between months and between the acute and community
//! collections. Every wording joinedup recognises lives in this file, so a new wording
//! needs a line of TOML, not a code change. Labels are compared by [`label_key`]: folded
//! (case, runs of whitespace including non-breaking and narrow no-break spaces, line
//! breaks and dash variants ignored), with spaces beside `/` and trailing full stops
//! ignored too. The file is checked once, at config time, and every problem is reported.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::config::ConfigErrors;
use crate::schema::fold::fold;

/// The comparison key of a published label.
pub fn label_key(s: &str) -> String {
    let folded = fold(s);
    let mut out = String::with_capacity(folded.len());
    let mut chars = folded.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ' ' && (out.ends_with('/') || chars.peek() == Some(&'/')) {
            continue;
        }
        out.push(c);
    }
    out.trim_end_matches(['.', ':', ';', ' ']).to_string()
}

/// Which collection a sitrep workbook belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Setting {
    /// Acute trusts with a type 1 A&E ("Discharge Delays (Acute)").
    Acute,
    /// Community providers ("Discharge Delays (Community)").
    Community,
}

impl Setting {
    /// The value written to the datasets.
    pub fn name(self) -> &'static str {
        match self {
            Setting::Acute => "acute",
            Setting::Community => "community",
        }
    }
}

/// The four sitrep tables joinedup reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TableKind {
    /// Table 2: daily patients no longer meeting the criteria to reside, discharged, remaining.
    Daily,
    /// Table 3: weekly additional bed days by length of stay.
    BedDays,
    /// Table 4: the month's discharges by pathway and destination.
    Destinations,
    /// Table 5: average patients with a long stay not discharged, by reason for delay.
    DelayReasons,
}

impl TableKind {
    /// Every table, in the order the workbook numbers them.
    pub const ALL: [TableKind; 4] = [
        TableKind::Daily,
        TableKind::BedDays,
        TableKind::Destinations,
        TableKind::DelayReasons,
    ];

    /// How the table is named in messages.
    pub fn describe(self) -> &'static str {
        match self {
            TableKind::Daily => "the daily table (Table 2)",
            TableKind::BedDays => "the bed-days table (Table 3)",
            TableKind::Destinations => "the destinations table (Table 4)",
            TableKind::DelayReasons => "the delay-reasons table (Table 5)",
        }
    }
}

/// A column of the daily table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DailyMeasure {
    /// Patients who no longer meet the criteria to reside.
    Nctr,
    /// Patients discharged (the 3-column layout).
    Discharged,
    /// Patients remaining in hospital who no longer meet the criteria to reside.
    RemainingNctr,
    /// Patients discharged by 17:00 (the 4-column layout).
    DischargedBy1700,
    /// Patients discharged between 17:01 and 23:59 (the 4-column layout).
    DischargedAfter1700,
}

/// A department-type value of the A&E tidy layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DepartmentType {
    /// Type 1: consultant-led 24-hour major emergency department.
    Type1,
    /// Type 2: consultant-led single-specialty department.
    Type2,
    /// Types 3 and 4: urgent treatment centres, minor injury units, walk-in centres.
    Other,
}

impl DepartmentType {
    /// The value written to `ae_monthly.department_type`.
    pub fn name(self) -> &'static str {
        match self {
            DepartmentType::Type1 => "1",
            DepartmentType::Type2 => "2",
            DepartmentType::Other => "other",
        }
    }
}

/// Pathway codes the mapping file may use.
pub const PATHWAYS: [&str; 5] = ["P0", "P1", "P2", "P3", "P3b"];

/// The checked mapping file.
#[derive(Debug, Clone)]
pub struct Labels {
    /// The file it came from.
    pub file: PathBuf,
    settings: Vec<(String, Setting)>,
    tables: Vec<(String, TableKind)>,
    daily: HashMap<String, DailyMeasure>,
    bed_days: Vec<String>,
    pathways: HashMap<String, String>,
    reasons: HashMap<String, String>,
    /// A&E tidy layout: column name → accepted headers (keys).
    pub ae_tidy: HashMap<&'static str, Vec<String>>,
    /// A&E MSitAE layout: column name → accepted headers (keys).
    pub ae_msitae: HashMap<&'static str, Vec<String>>,
    department_types: HashMap<String, DepartmentType>,
    total_rows: Vec<String>,
}

impl Labels {
    /// The setting a text names (a cover title, an England row label), if any.
    pub fn setting_in(&self, text: &str) -> Option<Setting> {
        let key = label_key(text);
        self.settings
            .iter()
            .find(|(phrase, _)| key.contains(phrase.as_str()))
            .map(|(_, s)| *s)
    }

    /// The table a title names, if any.
    pub fn table_in(&self, title: &str) -> Option<TableKind> {
        let key = label_key(title);
        self.tables
            .iter()
            .find(|(phrase, _)| key.contains(phrase.as_str()))
            .map(|(_, t)| *t)
    }

    /// The daily-table measure a column header names.
    pub fn daily_measure(&self, label: &str) -> Option<DailyMeasure> {
        self.daily.get(&label_key(label)).copied()
    }

    /// The length-of-stay threshold of a bed-days column (`7` for "… 7+ days").
    pub fn bed_days_threshold(&self, label: &str) -> Option<i64> {
        let key = label_key(label);
        if !self.bed_days.iter().any(|p| key.contains(p.as_str())) {
            return None;
        }
        let plus = key.find('+')?;
        let digits: String = key[..plus]
            .chars()
            .rev()
            .take_while(char::is_ascii_digit)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        digits.parse().ok()
    }

    /// The pathway code of a destination label ("P1 – Domestic home …" → `P1`), read
    /// from the text before its first dash, or of a group header ("Pathway 1").
    pub fn pathway(&self, label: &str) -> Option<&str> {
        let key = label_key(label);
        let prefix = key.split('-').next().unwrap_or("").trim();
        self.pathways
            .get(prefix)
            .or_else(|| self.pathways.get(&key))
            .map(String::as_str)
    }

    /// The stable code of a delay reason.
    pub fn reason(&self, label: &str) -> Option<&str> {
        self.reasons.get(&label_key(label)).map(String::as_str)
    }

    /// The department type a tidy-layout `type` value names.
    pub fn department_type(&self, value: &str) -> Option<DepartmentType> {
        self.department_types.get(&label_key(value)).copied()
    }

    /// True when an A&E row's period or parent organisation marks the national total.
    pub fn is_total_row(&self, value: &str) -> bool {
        let key = label_key(value);
        self.total_rows.contains(&key)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLabels {
    setting: RawSettings,
    tables: RawTables,
    daily_columns: RawDailyColumns,
    bed_days_columns: RawBedDays,
    pathways: std::collections::BTreeMap<String, Vec<String>>,
    reasons: Vec<RawReason>,
    ae_department_types: RawDepartmentTypes,
    ae_tidy: RawAeTidy,
    ae_msitae: RawAeMsitae,
}

impl crate::config::ValidValues for RawLabels {}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    acute: Vec<String>,
    community: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTables {
    daily: Vec<String>,
    bed_days: Vec<String>,
    destinations: Vec<String>,
    delay_reasons: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDailyColumns {
    nctr: Vec<String>,
    discharged: Vec<String>,
    remaining_nctr: Vec<String>,
    discharged_by_1700: Vec<String>,
    discharged_after_1700: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBedDays {
    contains: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReason {
    code: String,
    labels: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDepartmentTypes {
    type_1: Vec<String>,
    type_2: Vec<String>,
    other: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAeTidy {
    month: Vec<String>,
    org_code: Vec<String>,
    department_type: Vec<String>,
    attendances: Vec<String>,
    over_4h: Vec<String>,
    emergency_admissions: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAeMsitae {
    total_row: Vec<String>,
    period: Vec<String>,
    org_code: Vec<String>,
    parent_org: Vec<String>,
    org_name: Vec<String>,
    attendances_type_1: Vec<String>,
    attendances_type_2: Vec<String>,
    attendances_other: Vec<String>,
    booked_attendances_type_1: Vec<String>,
    booked_attendances_type_2: Vec<String>,
    booked_attendances_other: Vec<String>,
    over_4h_type_1: Vec<String>,
    over_4h_type_2: Vec<String>,
    over_4h_other: Vec<String>,
    booked_over_4h_type_1: Vec<String>,
    booked_over_4h_type_2: Vec<String>,
    booked_over_4h_other: Vec<String>,
    dta_4_to_12h: Vec<String>,
    dta_over_12h: Vec<String>,
    emergency_admissions_type_1: Vec<String>,
    emergency_admissions_type_2: Vec<String>,
    emergency_admissions_other: Vec<String>,
    other_emergency_admissions: Vec<String>,
}

/// Reads and checks a label mapping file; problems go to `errors` (with the key path).
pub fn load(file: &Path, errors: &mut ConfigErrors) -> Option<Labels> {
    let raw: RawLabels = crate::config::plan::read_toml(file, errors)?;
    let before = errors.len();
    let mut check = Checker { file, errors };

    let mut settings = Vec::new();
    for (key, list, setting) in [
        ("setting.acute", &raw.setting.acute, Setting::Acute),
        (
            "setting.community",
            &raw.setting.community,
            Setting::Community,
        ),
    ] {
        for k in check.keys(key, list) {
            settings.push((k, setting));
        }
    }
    let mut tables = Vec::new();
    for (key, list, kind) in [
        ("tables.daily", &raw.tables.daily, TableKind::Daily),
        ("tables.bed_days", &raw.tables.bed_days, TableKind::BedDays),
        (
            "tables.destinations",
            &raw.tables.destinations,
            TableKind::Destinations,
        ),
        (
            "tables.delay_reasons",
            &raw.tables.delay_reasons,
            TableKind::DelayReasons,
        ),
    ] {
        for k in check.keys(key, list) {
            tables.push((k, kind));
        }
    }
    let mut daily = HashMap::new();
    let d = &raw.daily_columns;
    for (key, list, m) in [
        ("daily_columns.nctr", &d.nctr, DailyMeasure::Nctr),
        (
            "daily_columns.discharged",
            &d.discharged,
            DailyMeasure::Discharged,
        ),
        (
            "daily_columns.remaining_nctr",
            &d.remaining_nctr,
            DailyMeasure::RemainingNctr,
        ),
        (
            "daily_columns.discharged_by_1700",
            &d.discharged_by_1700,
            DailyMeasure::DischargedBy1700,
        ),
        (
            "daily_columns.discharged_after_1700",
            &d.discharged_after_1700,
            DailyMeasure::DischargedAfter1700,
        ),
    ] {
        check.unique_into(key, list, m, &mut daily);
    }
    let bed_days = check.keys("bed_days_columns.contains", &raw.bed_days_columns.contains);

    let mut pathways = HashMap::new();
    for (code, list) in &raw.pathways {
        let key = format!("pathways.{code}");
        if !PATHWAYS.contains(&code.as_str()) {
            check.push(
                &key,
                format!(
                    "unknown pathway code; {}",
                    crate::config::alternatives(PATHWAYS)
                ),
            );
            continue;
        }
        check.unique_into(&key, list, code.clone(), &mut pathways);
    }
    for p in PATHWAYS {
        if !raw.pathways.contains_key(p) {
            check.push("pathways", format!("pathway {p} has no labels"));
        }
    }

    let mut reasons = HashMap::new();
    let mut codes_seen: HashMap<&str, usize> = HashMap::new();
    for (i, r) in raw.reasons.iter().enumerate() {
        let key = format!("reasons[{i}]");
        let valid = !r.code.is_empty()
            && r.code
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            check.push(
                &format!("{key}.code"),
                format!(
                    "\"{}\" is not a stable code: use lower-case letters, digits and _",
                    r.code
                ),
            );
        }
        if let Some(j) = codes_seen.insert(&r.code, i) {
            check.push(
                &format!("{key}.code"),
                format!("\"{}\" is also the code of reasons[{j}]", r.code),
            );
        }
        check.unique_into(
            &format!("{key}.labels"),
            &r.labels,
            r.code.clone(),
            &mut reasons,
        );
    }
    if raw.reasons.is_empty() {
        check.push("reasons", "no delay reasons are mapped");
    }

    let mut department_types = HashMap::new();
    let t = &raw.ae_department_types;
    for (key, list, dt) in [
        (
            "ae_department_types.type_1",
            &t.type_1,
            DepartmentType::Type1,
        ),
        (
            "ae_department_types.type_2",
            &t.type_2,
            DepartmentType::Type2,
        ),
        ("ae_department_types.other", &t.other, DepartmentType::Other),
    ] {
        check.unique_into(key, list, dt, &mut department_types);
    }

    let a = &raw.ae_tidy;
    let ae_tidy = check.columns(
        "ae_tidy",
        [
            ("month", &a.month),
            ("org_code", &a.org_code),
            ("department_type", &a.department_type),
            ("attendances", &a.attendances),
            ("over_4h", &a.over_4h),
            ("emergency_admissions", &a.emergency_admissions),
        ],
    );
    let m = &raw.ae_msitae;
    let ae_msitae = check.columns(
        "ae_msitae",
        [
            ("period", &m.period),
            ("org_code", &m.org_code),
            ("parent_org", &m.parent_org),
            ("org_name", &m.org_name),
            ("attendances_type_1", &m.attendances_type_1),
            ("attendances_type_2", &m.attendances_type_2),
            ("attendances_other", &m.attendances_other),
            ("booked_attendances_type_1", &m.booked_attendances_type_1),
            ("booked_attendances_type_2", &m.booked_attendances_type_2),
            ("booked_attendances_other", &m.booked_attendances_other),
            ("over_4h_type_1", &m.over_4h_type_1),
            ("over_4h_type_2", &m.over_4h_type_2),
            ("over_4h_other", &m.over_4h_other),
            ("booked_over_4h_type_1", &m.booked_over_4h_type_1),
            ("booked_over_4h_type_2", &m.booked_over_4h_type_2),
            ("booked_over_4h_other", &m.booked_over_4h_other),
            ("dta_4_to_12h", &m.dta_4_to_12h),
            ("dta_over_12h", &m.dta_over_12h),
            (
                "emergency_admissions_type_1",
                &m.emergency_admissions_type_1,
            ),
            (
                "emergency_admissions_type_2",
                &m.emergency_admissions_type_2,
            ),
            ("emergency_admissions_other", &m.emergency_admissions_other),
            ("other_emergency_admissions", &m.other_emergency_admissions),
        ],
    );
    let total_rows = check.keys("ae_msitae.total_row", &m.total_row);

    if errors.len() > before {
        return None;
    }
    Some(Labels {
        file: file.to_path_buf(),
        settings,
        tables,
        daily,
        bed_days,
        pathways,
        reasons,
        ae_tidy,
        ae_msitae,
        department_types,
        total_rows,
    })
}

struct Checker<'a> {
    file: &'a Path,
    errors: &'a mut ConfigErrors,
}

impl Checker<'_> {
    fn push(&mut self, key: &str, message: impl Into<String>) {
        self.errors.push(self.file, key, message);
    }

    /// The keys of a non-empty list of labels.
    fn keys(&mut self, key: &str, list: &[String]) -> Vec<String> {
        let keys: Vec<String> = list.iter().map(|l| label_key(l)).collect();
        if keys.is_empty() {
            self.push(key, "needs at least one label");
        }
        for (i, k) in keys.iter().enumerate() {
            if k.is_empty() {
                self.push(&format!("{key}[{i}]"), "is blank");
            }
        }
        keys
    }

    /// Adds each label of `list` to `map` as `value`, reporting a label that already
    /// means something else.
    fn unique_into<V: Clone + PartialEq + std::fmt::Debug>(
        &mut self,
        key: &str,
        list: &[String],
        value: V,
        map: &mut HashMap<String, V>,
    ) {
        for (i, k) in self.keys(key, list).into_iter().enumerate() {
            match map.get(&k) {
                Some(other) if *other != value => self.push(
                    &format!("{key}[{i}]"),
                    format!("\"{}\" is already mapped to {other:?}", list[i]),
                ),
                _ => {
                    map.insert(k, value.clone());
                }
            }
        }
    }

    fn columns<const N: usize>(
        &mut self,
        section: &str,
        columns: [(&'static str, &Vec<String>); N],
    ) -> HashMap<&'static str, Vec<String>> {
        let mut out = HashMap::new();
        let mut seen: HashMap<String, &str> = HashMap::new();
        for (name, list) in columns {
            let key = format!("{section}.{name}");
            let keys = self.keys(&key, list);
            for (i, k) in keys.iter().enumerate() {
                if let Some(other) = seen.insert(k.clone(), name)
                    && other != name
                {
                    self.push(
                        &format!("{key}[{i}]"),
                        format!("\"{}\" also names column {other}", list[i]),
                    );
                }
            }
            out.insert(name, keys);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_keys_ignore_spacing_around_slashes_and_trailing_stops() {
        assert_eq!(
            label_key(
                "Awaiting a medical decision/ intervention including writing the discharge summary. "
            ),
            label_key(
                "Awaiting a medical decision/intervention including writing the discharge summary"
            )
        );
        assert_eq!(
            label_key("P1 –\u{202f}Domestic home or setting"),
            "p1-domestic home or setting"
        );
        assert_eq!(
            label_key("P2 - Care Home \n(short term 24hr support)"),
            "p2-care home (short term 24hr support)"
        );
        assert_eq!(label_key("Period:"), "period");
        assert_ne!(label_key("P3"), label_key("P3b"));
    }

    fn shipped() -> Labels {
        let file =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/mappings/nhse_labels.toml");
        let mut errors = ConfigErrors::default();
        let labels = load(&file, &mut errors);
        assert!(errors.is_empty(), "{errors}");
        labels.expect("labels")
    }

    #[test]
    fn the_shipped_file_maps_acute_and_community_wordings_to_one_code() {
        let l = shipped();
        assert_eq!(
            l.reason(
                "Awaiting a medical decision/intervention including writing the discharge summary"
            ),
            Some("medical_decision")
        );
        assert_eq!(
            l.reason(
                "Awaiting a medical decision/ intervention including writing the discharge summary"
            ),
            Some("medical_decision")
        );
        assert_eq!(
            l.reason("Awaiting transfer back to an acute trust"),
            Some("awaiting_acute_trust")
        );
        assert_eq!(
            l.reason("Awaiting readmission to an acute trust"),
            Some("awaiting_acute_trust")
        );
        assert_eq!(l.reason("Something new"), None);
        assert_eq!(
            l.pathway("P3b - Care Home\n(existing resident discharged back)"),
            Some("P3b")
        );
        assert_eq!(
            l.pathway("P3 - Care Home\n(new admission, likely permanent)"),
            Some("P3")
        );
        assert_eq!(
            l.pathway("P1 –\u{202f}Domestic home or setting to continue"),
            Some("P1")
        );
        assert_eq!(l.pathway("Pathway 2"), Some("P2"));
        assert_eq!(l.pathway("Total"), None);
        assert_eq!(
            l.bed_days_threshold(
                "Number of additional bed days, patients with length of stay of 21+ days"
            ),
            Some(21)
        );
        assert_eq!(l.bed_days_threshold("Number of patients discharged"), None);
        assert_eq!(
            l.daily_measure(
                "Number of patients remaining in hospital who no longer meet the criteria to reside"
            ),
            Some(DailyMeasure::RemainingNctr)
        );
        assert_eq!(
            l.setting_in("Community Discharge Situation Report "),
            Some(Setting::Community)
        );
        assert_eq!(
            l.setting_in("ENGLAND (Type 1 Trusts)"),
            Some(Setting::Acute)
        );
        assert_eq!(l.setting_in("ENGLAND"), None);
        assert_eq!(l.department_type("other"), Some(DepartmentType::Other));
        assert!(l.is_total_row(" TOTAL "));
    }

    #[test]
    fn a_label_mapped_twice_is_reported_with_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let shipped = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/mappings/nhse_labels.toml"),
        )
        .unwrap();
        let broken = shipped.replace("P3b = [", "P4 = [\"P4\"]\nP3b = [\"P3\", ");
        let file = dir.path().join("labels.toml");
        std::fs::write(&file, broken).unwrap();
        let mut errors = ConfigErrors::default();
        assert!(load(&file, &mut errors).is_none());
        let text = errors.to_string();
        assert!(text.contains("pathways.P4: unknown pathway code; valid values are \"P0\", \"P1\", \"P2\", \"P3\", \"P3b\""), "{text}");
        assert!(
            text.contains("pathways.P3b[0]: \"P3\" is already mapped to \"P3\""),
            "{text}"
        );
    }
}
