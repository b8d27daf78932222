//! A mapping read and checked against its target entity and, when it loaded, the contract
//! whose columns it reads.

use std::path::Path;

use super::errors::{alternatives, first_alternatives};
use super::loader::Loader;
use super::plan::{FieldSource, Mapping, Via};
use super::raw::{RawFieldMapping, RawMapping, VIA};
use super::toml_errors::read_toml_partial;
use crate::schema::{ColumnType, Contract, Field, PseudonymOf, ValueType};

/// Codes of a list named at most in a message about a constant not in it.
const CODES_SHOWN: usize = 12;

impl Loader {
    /// Reads and checks a mapping: its target entity's fields, and, when its contract
    /// loaded, every column it reads. `None` when anything is wrong or there is no
    /// contract.
    pub(super) fn mapping(
        &mut self,
        file: &Path,
        contract: Option<&Contract>,
        contract_name: Option<&str>,
    ) -> Option<Mapping> {
        // Checked on without lines set aside for their own errors, so its other errors
        // are reported in the same check; such a mapping is not used.
        let partial = read_toml_partial::<RawMapping>(file, &mut self.errors)?;
        let raw = partial.value;
        let entity = self.entity(&raw.mapping.target, file, "mapping.target")?;
        let before = self.errors.len();
        for target in raw.fields.keys() {
            if entity.field(target).is_none() {
                self.errors.push(
                    file,
                    format!("fields.{target}"),
                    format!(
                        "entity \"{}\" has no such field; {}",
                        entity.name,
                        alternatives(entity.fields.iter().map(|f| &f.name))
                    ),
                );
            }
        }
        let mut fields = Vec::new();
        for f in &entity.fields {
            let key = format!("fields.{}", f.name);
            let source = match (raw.fields.get(&f.name), contract) {
                // The rows' source is the pipeline's name for the source they came from:
                // the summary, the manifest and linkage's per-source counts go by it.
                (Some(_), _) if f.name == "source" => {
                    self.errors.push(
                        file,
                        &key,
                        "is filled with the name of the pipeline's source the rows came from; a mapping cannot set it (map the value to another field)",
                    );
                    None
                }
                (Some(m), Some(contract)) => self
                    .field_mapping(file, &key, m, f, contract)
                    .filter(|source| self.fills_meaning(file, &key, f, contract, source)),
                // A broken contract: its column names can still be checked.
                (Some(m), None) => {
                    if let Some(name) = contract_name {
                        self.columns_named(file, &key, m, name);
                    }
                    None
                }
                (None, _) => {
                    if !f.nullable && f.name != "source" {
                        self.errors.push(file, &key, format!("entity \"{}\" requires this field but the mapping does not fill it", entity.name));
                    }
                    None
                }
            };
            fields.push((f.name.clone(), source));
        }
        self.errors.drop_follow_ons(before, file, &partial.blanked);
        (self.errors.len() == before && partial.blanked.is_empty() && contract.is_some()).then(
            || Mapping {
                file: file.to_path_buf(),
                target: entity.name.clone(),
                fields,
            },
        )
    }

    /// `m.via` read: `None` (recorded) when it names no attribute of a code.
    fn via(&mut self, file: &Path, key: &str, m: &RawFieldMapping) -> Option<Option<Via>> {
        match m.via.as_deref() {
            None => Some(None),
            Some("label") => Some(Some(Via::Label)),
            Some("group") => Some(Some(Via::Group)),
            Some(other) => {
                self.errors.push(
                    file,
                    format!("{key}.via"),
                    format!("unknown attribute \"{other}\"; {}", alternatives(VIA)),
                );
                None
            }
        }
    }

    /// Checks `m` against contract `name`, which was read but is broken: each column it
    /// names that the contract does not have, and what needs no contract (`via`), so
    /// fixing the contract does not reveal a second round of errors.
    fn columns_named(&mut self, file: &Path, key: &str, m: &RawFieldMapping, name: &str) {
        let _ = self.via(file, key, m);
        let Some(columns) = self.contract_columns.get(name).cloned() else {
            return;
        };
        for (what, column) in [("from", &m.from), ("date", &m.date), ("time", &m.time)] {
            if let Some(column) = column
                && !columns.contains(column)
            {
                self.errors.push(
                    file,
                    format!("{key}.{what}"),
                    format!(
                        "no column \"{column}\" in contract \"{name}\"; {}",
                        alternatives(&columns)
                    ),
                );
            }
        }
    }

    fn field_mapping(
        &mut self,
        file: &Path,
        key: &str,
        m: &RawFieldMapping,
        field: &Field,
        contract: &Contract,
    ) -> Option<FieldSource> {
        let column = |this: &mut Self, name: &str, what: &str| -> Option<usize> {
            let found = contract.column_index(name);
            if found.is_none() {
                this.errors.push(
                    file,
                    format!("{key}.{what}"),
                    format!(
                        "no column \"{name}\" in contract \"{}\"; {}",
                        contract.name,
                        alternatives(
                            contract
                                .columns
                                .iter()
                                .filter(|c| c.kind.stored().is_some())
                                .map(|c| &c.name)
                        )
                    ),
                );
            }
            found
        };
        let kind_of = |i: usize| contract.columns[i].kind.stored();
        if let Some(meta) = &m.meta {
            if m.from.is_some() || m.date.is_some() || m.time.is_some() || m.value.is_some() {
                self.errors.push(
                    file,
                    key,
                    "give exactly one of: from (optionally with via), date + time, value, meta",
                );
                return None;
            }
            if meta != "file" {
                self.errors.push(
                    file,
                    format!("{key}.meta"),
                    format!(
                        "unknown lineage value \"{meta}\"; {}",
                        alternatives(["file"])
                    ),
                );
                return None;
            }
            if field.kind != ValueType::String {
                self.errors
                    .push(file, format!("{key}.meta"), "lineage values are strings");
                return None;
            }
            return Some(FieldSource::SourceFile);
        }
        match (&m.from, &m.date, &m.time, &m.value) {
            (Some(from), None, None, None) => {
                let via = self.via(file, key, m);
                let index = column(self, from, "from")?;
                let via = via?;
                let col = &contract.columns[index];
                if via.is_some() && !matches!(col.kind, ColumnType::Code(_)) {
                    self.errors.push(
                        file,
                        format!("{key}.via"),
                        format!("column \"{}\" is not a code column", col.name),
                    );
                    return None;
                }
                // A list without any label (group) would fill the field with nulls.
                if let (Some(via), ColumnType::Code(list)) = (via, &col.kind) {
                    let (word, has) = match via {
                        Via::Label => ("label", list.codes.iter().any(|c| c.label.is_some())),
                        Via::Group => ("group", list.codes.iter().any(|c| c.group.is_some())),
                    };
                    if !has {
                        self.errors.push(
                            file,
                            format!("{key}.via"),
                            format!(
                                "code list \"{}\" gives no code a {word}, so the field would be empty; map the code itself (leave out `via`) or add {word}s to the list",
                                list.name
                            ),
                        );
                        return None;
                    }
                }
                let stored = if via.is_some() {
                    Some(ValueType::String)
                } else {
                    kind_of(index)
                };
                match stored {
                    None => {
                        self.errors.push(
                            file,
                            format!("{key}.from"),
                            format!(
                                "column \"{}\" is sensitive: it is never read and cannot be mapped",
                                col.name
                            ),
                        );
                        None
                    }
                    Some(t) if t != field.kind => {
                        self.errors.push(
                            file,
                            format!("{key}.from"),
                            format!(
                                "column \"{}\" is {} but the field is {}",
                                col.name,
                                t.name(),
                                field.kind.name()
                            ),
                        );
                        None
                    }
                    Some(_) => Some(FieldSource::Column { index, via }),
                }
            }
            (None, Some(date), Some(time), None) => {
                let (d, t) = (column(self, date, "date")?, column(self, time, "time")?);
                if kind_of(d) != Some(ValueType::Date)
                    || kind_of(t) != Some(ValueType::Time)
                    || field.kind != ValueType::DateTime
                {
                    self.errors.push(
                        file,
                        key,
                        "date + time needs a date column, a time column and a datetime field",
                    );
                    return None;
                }
                Some(FieldSource::DateTime { date: d, time: t })
            }
            (None, None, None, Some(v)) => {
                if field.kind != ValueType::String {
                    self.errors.push(
                        file,
                        format!("{key}.value"),
                        "constants are only supported for string fields",
                    );
                    return None;
                }
                Some(FieldSource::Value(self.as_coded(field, v)))
            }
            _ => {
                self.errors.push(
                    file,
                    key,
                    "give exactly one of: from (optionally with via), date + time, value, meta",
                );
                None
            }
        }
    }

    /// A constant for `field` as stored: for a field with a code list, the code it stands
    /// for, matched as the list matches a file's values (`match = "folded"`: "Direct
    /// payment" is "Direct Payment") and spelled as the list spells it, as a column's
    /// codes are; as written otherwise, or when the list has no such code
    /// ([`Self::fills_meaning`] says so).
    fn as_coded(&self, field: &Field, value: &str) -> String {
        field
            .codes
            .as_ref()
            .and_then(|name| self.code_lists.get(name).cloned().flatten())
            .and_then(|list| list.lookup(value).map(|c| c.code.clone()))
            .unwrap_or_else(|| value.to_string())
    }

    /// Whether `source` gives the field values of what it holds, beyond their type: a
    /// pseudonym field is filled from a column pseudonymised at ingest (a council id
    /// declared `string` would reach `restricted/` as written; a council code mapped
    /// to `person_id` would make every row one person), and a field with a code list
    /// from a column of that list (or a constant code of it). Records an error when not.
    fn fills_meaning(
        &mut self,
        file: &Path,
        key: &str,
        field: &Field,
        contract: &Contract,
        source: &FieldSource,
    ) -> bool {
        let column = match source {
            FieldSource::Column { index, via: None } => Some(&contract.columns[*index]),
            _ => None,
        };
        if let Some(of) = field.pseudonym {
            if column.is_some_and(|c| of.filled_by(&c.kind)) {
                return true;
            }
            let what = match of {
                PseudonymOf::NhsNumber => "an NHS number",
                PseudonymOf::Identifier => "a person identifier",
            };
            let given = match (source, column) {
                (_, Some(c)) => format!("column \"{}\" is type \"{}\"", c.name, c.kind.name()),
                (FieldSource::Column { .. }, None) => "a code's label or group is not".into(),
                _ => "a constant, a date + time or lineage is not".into(),
            };
            self.errors.push(
                file,
                key,
                format!(
                    "field \"{}\" holds the pseudonym of {what}: fill it from a column of type \"{}\" (pseudonymised as it is read){}; {given}",
                    field.name,
                    of.column_type(),
                    match of {
                        PseudonymOf::NhsNumber => {
                            ", or of type \"pseudonym\" (one pseudonymised before it reached joinedup)"
                        }
                        PseudonymOf::Identifier => "",
                    }
                ),
            );
            return false;
        }
        let Some(list) = &field.codes else {
            return true;
        };
        let fits = match (source, column) {
            (_, Some(c)) => matches!(&c.kind, ColumnType::Code(l) if &l.name == list),
            (FieldSource::Value(v), None) => self
                .code_lists
                .get(list)
                .cloned()
                .flatten()
                .is_some_and(|l| l.lookup(v).is_some_and(|code| code.code == *v)),
            _ => false,
        };
        if !fits {
            let given = match (source, column) {
                (_, Some(c)) => match &c.kind {
                    ColumnType::Code(l) => {
                        format!("column \"{}\" has codes of \"{}\"", c.name, l.name)
                    }
                    kind => format!("column \"{}\" is type \"{}\"", c.name, kind.name()),
                },
                (FieldSource::Value(v), None) => format!(
                    "\"{v}\" is not one of its codes; {}",
                    self.code_lists
                        .get(list)
                        .cloned()
                        .flatten()
                        .map(|l| first_alternatives(l.codes.iter().map(|c| &c.code), CODES_SHOWN))
                        .unwrap_or_default()
                ),
                (FieldSource::Column { .. }, None) => {
                    "via gives a code's label or group, not the code".into()
                }
                _ => "a date + time or lineage is not".into(),
            };
            self.errors.push(
                file,
                key,
                format!(
                    "field \"{}\" holds codes of list \"{list}\": fill it from a code column with that list (codes = \"{list}\") or a constant code of it; {given}",
                    field.name
                ),
            );
        }
        fits
    }
}
