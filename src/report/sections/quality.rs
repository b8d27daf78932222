//! Section 6, data quality: rows in / accepted / quarantined per source and why (run
//! manifest), how well records link across sources (`published/linkage_quality`), and
//! what disclosure control suppressed (manifest, per dataset and column).

use super::super::data::{LinkageRow, RunManifest};
use super::super::format;
use super::super::html::{self, Section, Table, Td};
use super::super::palette::{BAR_GREY, BLUE};
use super::super::svg::{self, Bar, BarChart, BarValue};
use super::super::text;
use super::{Context, td};
use crate::publish::Dataset;
use crate::publish::disclosure::Rule;

const ID: &str = "quality";
const TITLE: &str = "Data quality";

/// Quarantine reason codes in words (README "Quarantine reason codes").
fn reason(code: &str) -> &str {
    match code {
        "wrong_field_count" => "wrong number of fields",
        "unbalanced_quote" => "quote not closed on its line",
        "invalid_encoding" => "unreadable characters",
        "missing_required" => "required value missing",
        "nhs_number_invalid" => "invalid NHS number",
        "invalid_date" => "invalid date",
        "date_in_future" => "date after the run",
        "invalid_integer" => "invalid number",
        "unknown_code" => "code not in its list",
        "nhs_number_in_text" => "NHS number in a text column",
        "postcode_in_text" => "postcode in a text column",
        "pattern_mismatch" => "value not of its declared shape",
        "date_order" => "dates out of order",
        other => other,
    }
}

/// A count of records from the manifest (operational, so exact), under the rule of the
/// published data ([`super::super::data::ReportData::counts_rule`]; HES: 1–7 as "1–7", 8
/// and above to the nearest 5).
fn records(rule: Rule, n: u64) -> String {
    format::records(rule.count(n as i64), rule.hidden_range())
}

fn sources_table(m: &RunManifest, rule: Rule) -> Table {
    Table {
        id: "table-sources".to_string(),
        caption: format!(
            "Rows received, accepted and quarantined per source, run {}",
            m.run_id
        ),
        // "Accepted", not "Published" (regression, review): these rows passed their
        // source's rules into the person-level data under restricted/, which is never
        // published; only aggregates of them are.
        head: [
            "Source",
            "Rows in",
            "Accepted",
            "Quarantined",
            "Why quarantined",
        ]
        .map(String::from)
        .to_vec(),
        rows: m
            .sources
            .iter()
            .map(|s| {
                let why: Vec<String> = s
                    .quarantine_reasons
                    .iter()
                    .map(|(k, v)| format!("{} {}", records(rule, *v), reason(k)))
                    .collect();
                vec![
                    Td::Head(s.name.clone()),
                    Td::Num(records(rule, s.rows_in)),
                    Td::Num(records(rule, s.accepted)),
                    Td::Num(records(rule, s.quarantined)),
                    Td::Text(if why.is_empty() {
                        "none".to_string()
                    } else if s.quarantine_reasons.values().sum::<u64>() > s.quarantined {
                        format!(
                            "{} (a row with several reasons counts under each)",
                            why.join(", ")
                        )
                    } else {
                        why.join(", ")
                    }),
                ]
            })
            .collect(),
    }
}

/// A note per source with accepted rows without a valid NHS number (hospital and A&E
/// rows kept with no person): they count in flow, occupancy and waits but link to
/// nothing, which the linkage rates alone do not say.
fn without_nhs_number_notes(m: &RunManifest, rule: Rule) -> Vec<String> {
    m.sources
        .iter()
        .filter(|s| s.without_nhs_number > 0)
        .map(|s| {
            format!(
                "{}: {} accepted without a valid NHS number (blank or failing its check digit): counted in admissions, beds and A&E waits, but they cannot link to another source.",
                s.name,
                records(rule, s.without_nhs_number)
            )
        })
        .collect()
}

/// The reading when no run published the person-level datasets. A data directory of NHS
/// England publications only holds their runs' manifests: "no run manifest was found"
/// was untrue there.
fn no_person_level_run(other_pipelines: &std::collections::BTreeSet<String>) -> String {
    if other_pipelines.is_empty() {
        return "No run manifest was found, so rows received and set aside cannot be shown."
            .to_string();
    }
    format!(
        "No person-level run has published to this data directory (runs/ holds runs of {} only), so rows received and set aside cannot be shown.",
        other_pipelines
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn suppression_table(m: &RunManifest) -> Table {
    let rows = m
        .outputs
        .iter()
        .filter(|o| o.access == "published")
        .map(|o| {
            let columns: Vec<String> = o
                .suppressed
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(c, n)| format!("{c} {}", format::int(*n as i64)))
                .collect();
            vec![
                Td::Head(o.dataset.clone()),
                Td::Num(format::int(o.rows as i64)),
                Td::Num(format::int(o.suppressed_cells as i64)),
                Td::Text(if columns.is_empty() {
                    "none".to_string()
                } else {
                    columns.join(", ")
                }),
            ]
        })
        .collect();
    Table {
        id: "table-suppressed".to_string(),
        caption: "Cells suppressed by disclosure control, per published dataset".to_string(),
        head: ["Dataset", "Rows", "Cells suppressed", "By column"]
            .map(String::from)
            .to_vec(),
        rows,
    }
}

fn linkage_label(r: &LinkageRow) -> String {
    match &r.la_code {
        Some(c) => format!("{} · council {c}", r.source),
        None => format!("{} · no council", r.source),
    }
}

pub fn section(cx: &Context) -> Section {
    let rule = cx.data.counts_rule();
    let m = cx.data.manifest.as_ref();
    let mut body = String::new();
    let mut period = Vec::new();

    if let Some(m) = m {
        period.push(format!(
            "run {} (finished {})",
            m.run_id,
            m.finished_at.get(..10).unwrap_or(&m.finished_at)
        ));
        body.push_str(&html::h3("Rows received and set aside"));
        body.push_str(&html::table(&sources_table(m, rule)));
    }

    // Linkage in the headline month.
    if let (Some(all), Some(p)) = (&cx.data.linkage, cx.period) {
        let bounds = cx.data.bounds(Dataset::LinkageQuality);
        let mut rows: Vec<&LinkageRow> = all.iter().filter(|r| r.month == p.month).collect();
        rows.sort_by(|a, b| {
            a.source
                .cmp(&b.source)
                .then_with(|| a.la_code.is_none().cmp(&b.la_code.is_none()))
                .then_with(|| a.la_code.cmp(&b.la_code))
        });
        if !rows.is_empty() {
            period.push(format!("linkage for {}", format::month(p.month)));
            let bars: Vec<Bar> = rows
                .iter()
                .map(|r| {
                    let records = format::count_cell(r.records, bounds.in_row("records", *r));
                    let (value, text) = match r.linked_pct.shown() {
                        Some(v) => (
                            BarValue::Value(v),
                            format!("{} of {records} records", format::pct(v)),
                        ),
                        // The share is suppressed when the linked count is small, whatever
                        // the records: say so, with the records as published.
                        None if r.linked_pct.is_suppressed() && r.records.is_suppressed() => (
                            BarValue::Suppressed,
                            format!("share linked suppressed, records {records}"),
                        ),
                        None if r.linked_pct.is_suppressed() => (
                            BarValue::Suppressed,
                            format!("share linked suppressed, of {records} records"),
                        ),
                        None => (BarValue::Empty, "no records".to_string()),
                    };
                    Bar {
                        label: linkage_label(r),
                        value,
                        whisker: None,
                        colour: if r.la_code.is_some() { BLUE } else { BAR_GREY },
                        text,
                    }
                })
                .collect();
            let table = Table {
                id: "table-linkage".to_string(),
                caption: format!(
                    "Records linked to another source, by source and council, {}",
                    format::month(p.month)
                ),
                head: [
                    "Source",
                    "Council",
                    "Records",
                    "Linked to another source",
                    "Share linked",
                    "Delayed hospital spells",
                    "Of which linked to social care",
                ]
                .map(String::from)
                .to_vec(),
                rows: rows
                    .iter()
                    .map(|r| {
                        let h = |c: &str| bounds.in_row(c, *r);
                        vec![
                            Td::Head(r.source.clone()),
                            Td::Text(r.la_code.clone().unwrap_or_else(|| "none".to_string())),
                            td(r.records, h("records"), format::int),
                            td(
                                r.linked_to_other_source,
                                h("linked_to_other_source"),
                                format::int,
                            ),
                            td(r.linked_pct, h("linked_pct"), format::pct),
                            td(r.delayed_spells, h("delayed_spells"), format::int),
                            td(
                                r.delayed_spells_linked_to_social_care,
                                h("delayed_spells_linked_to_social_care"),
                                format::int,
                            ),
                        ]
                    })
                    .collect(),
            };
            let svg = svg::bar_chart(&BarChart {
                id: "chart-linkage",
                title: &format!(
                    "Share of records linked to another source, {}",
                    format::month(p.month)
                ),
                desc: &format!(
                    "Bar chart of the percentage of each source's records, by council, whose person also appears in another source, in {}.",
                    format::month(p.month)
                ),
                unit: "% of records linked",
                bars: &bars,
            });
            body.push_str(&html::h3("How well records link"));
            body.push_str(&html::chart(
                &format!(
                    "Records whose person appears in another source, {}",
                    format::month(p.month)
                ),
                &svg,
                &table,
                "A hospital spell links when the same person has an A&E attendance or a social-care record; records without a valid NHS number, in any source, cannot link.",
            ));
        }
    }

    let mut suppressed_cells = 0;
    if let Some(m) = m {
        suppressed_cells = m
            .outputs
            .iter()
            .filter(|o| o.access == "published")
            .map(|o| o.suppressed_cells)
            .sum();
        let t = suppression_table(m);
        body.push_str(&html::h3("What was suppressed"));
        body.push_str(&html::table(&t));
        let mut notes = without_nhs_number_notes(m, rule);
        if let Some(r) = &m.social_care_resolution {
            notes.push(format!(
                "Social care: {} events received; {} replaced by a later submission; {} requests folded into an earlier request of the same person within four days; {} given an NHS number from another record of the same person; {} without an NHS number, so they cannot link to hospital records.",
                records(rule, r.events_in),
                records(rule, r.superseded_by_later_submission),
                records(rule, r.requests_clustered),
                records(rule, r.person_key_backfilled),
                records(rule, r.without_nhs_key)
            ));
        }
        notes.extend(m.warnings.iter().map(|w| format!("Warning: {w}")));
        if !notes.is_empty() {
            body.push_str(&html::h3("Notes from the run"));
            body.push_str(&html::list(&notes));
        }
    }

    let reading = match m {
        Some(m) => text::quality(
            m.sources.iter().map(|s| s.rows_in).sum(),
            m.sources.iter().map(|s| s.quarantined).sum(),
            suppressed_cells,
            rule,
        ),
        None => no_person_level_run(&cx.data.other_pipelines),
    };
    Section {
        id: ID,
        title: TITLE.to_string(),
        period: if period.is_empty() {
            "none".to_string()
        } else {
            period.join("; ")
        },
        reading,
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (review, IG): the column of rows accepted into the person-level data
    /// under restricted/ was headed "Published", as if those rows had been published.
    #[test]
    fn regression_accepted_rows_are_not_called_published() {
        let m: RunManifest = serde_json::from_value(serde_json::json!({
            "run_id": "r1",
            "status": "ok",
            "pipeline": {"name": "sample"},
            "finished_at": "2026-11-27T18:27:04.335Z",
            "sources": [{"name": "apc", "rows_in": 1600, "accepted": 1582, "quarantined": 18}],
            "social_care_resolution": null
        }))
        .unwrap();
        let t = sources_table(&m, Rule::HES);
        assert!(without_nhs_number_notes(&m, Rule::HES).is_empty());
        assert_eq!(
            t.head,
            [
                "Source",
                "Rows in",
                "Accepted",
                "Quarantined",
                "Why quarantined"
            ]
        );
        assert_eq!(
            t.caption,
            "Rows received, accepted and quarantined per source, run r1"
        );
    }

    /// Regression (review): hospital and A&E rows kept without a valid NHS number were
    /// never mentioned, and the page said only social-care records could not link.
    #[test]
    fn regression_rows_without_an_nhs_number_are_noted_per_source() {
        let m: RunManifest = serde_json::from_value(serde_json::json!({
            "run_id": "r1",
            "status": "ok",
            "pipeline": {"name": "sample"},
            "finished_at": "2026-11-27T18:27:04.335Z",
            "sources": [
                {"name": "apc", "rows_in": 1600, "accepted": 1582, "quarantined": 18, "without_nhs_number": 42},
                {"name": "ecds", "rows_in": 900, "accepted": 900, "quarantined": 0, "without_nhs_number": 3},
                {"name": "cld", "rows_in": 90, "accepted": 90, "quarantined": 0}
            ],
            "social_care_resolution": null
        }))
        .unwrap();
        let notes = without_nhs_number_notes(&m, Rule::HES);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(
            notes[0].starts_with("apc: 40 accepted without a valid NHS number"),
            "{notes:?}"
        );
        // 1-7 is suppressed under the HES rule, never shown.
        assert!(notes[1].starts_with("ecds: 1–7 accepted"), "{notes:?}");
    }
}
