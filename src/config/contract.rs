//! A source contract read and checked: its columns, types, code lists, date formats and
//! rules, each problem reported at its key path.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use super::errors::alternatives;
use super::loader::Loader;
use super::raw::{COLUMN_TYPES, ENCODINGS, ON_EXTRA_COLUMN, RULES, RawColumn, RawContract};
use super::toml_errors::read_toml_partial;
use crate::ingest::dates::DateFormat;
use crate::schema::{
    Column, ColumnType, Contract, DriftPolicy, Encoding, OnInvalid, Pattern, Rule, RuleKind,
    ValueType,
};

impl Loader {
    pub(super) fn contract(&mut self, name: &str, from: &Path, key: &str) -> Option<Arc<Contract>> {
        if let Some(cached) = self.contracts.get(name) {
            return cached.clone();
        }
        let loaded = self.load_contract(name, from, key);
        self.contracts.insert(name.to_string(), loaded.clone());
        loaded
    }

    fn load_contract(&mut self, name: &str, from: &Path, key: &str) -> Option<Arc<Contract>> {
        let path = self.schema_file("sources", name, from, key)?;
        // Its column names as written, for checking mappings against it even when it is
        // broken (read from the TOML itself: a line set aside for its error may hold a
        // whole inline column).
        if let Some(names) = column_names_as_written(&path) {
            self.contract_columns.insert(name.to_string(), names);
        }
        // A contract with errors on lines of their own is checked on without them, so
        // its other errors are reported in the same check; it is not used.
        let partial = read_toml_partial::<RawContract>(&path, &mut self.errors)?;
        let raw = partial.value;
        let before = self.errors.len();
        let m = &raw.contract;
        if m.name != name {
            self.errors.push(
                &path,
                "contract.name",
                format!("is \"{}\" but the file is named \"{name}\"", m.name),
            );
        }
        let encoding = match m.encoding.to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" => Encoding::Utf8,
            "windows-1252" | "cp1252" => Encoding::Windows1252,
            other => {
                self.errors.push(
                    &path,
                    "contract.encoding",
                    format!("unknown encoding \"{other}\"; {}", alternatives(ENCODINGS)),
                );
                Encoding::Utf8
            }
        };
        let delimiter = match m.delimiter.as_deref() {
            None => b',',
            // The quote and the line ends cannot separate fields.
            Some(d) if d == "\"" || d == "\n" || d == "\r" => {
                self.errors.push(
                    &path,
                    "contract.delimiter",
                    format!(
                        "{d:?} cannot separate fields (it quotes fields or ends lines); {}",
                        alternatives([",", ";", "|", "\\t"])
                    ),
                );
                b','
            }
            Some(d) if d.len() == 1 && d.is_ascii() => d.as_bytes()[0],
            Some(d) => {
                self.errors.push(
                    &path,
                    "contract.delimiter",
                    format!(
                        "must be one ASCII character; got {d:?} ({} characters); for a tab write delimiter = \"\\t\" (double quotes: '\\t' in single quotes is two characters)",
                        d.chars().count()
                    ),
                );
                b','
            }
        };
        let on_extra_column = match m.on_extra_column.as_deref() {
            None | Some("warn") => DriftPolicy::Warn,
            Some("ignore") => DriftPolicy::Ignore,
            Some("error") => DriftPolicy::Error,
            Some(other) => {
                self.errors.push(
                    &path,
                    "contract.on_extra_column",
                    format!(
                        "unknown policy \"{other}\"; {}",
                        alternatives(ON_EXTRA_COLUMN)
                    ),
                );
                DriftPolicy::Warn
            }
        };

        let mut columns: Vec<Column> = Vec::new();
        let mut headers_seen: HashMap<String, usize> = HashMap::new();
        for (i, c) in raw.columns.iter().enumerate() {
            let key = format!("columns[{i}]");
            if columns.iter().any(|x| x.name == c.name) {
                self.errors.push(
                    &path,
                    format!("{key}.name"),
                    format!("\"{}\" is declared twice", c.name),
                );
            }
            for h in std::iter::once(&c.header).chain(&c.aliases) {
                let folded = crate::schema::fold::fold(h);
                match headers_seen.insert(folded, i) {
                    Some(j) if j == i => self.errors.push(
                        &path,
                        format!("{key}.aliases"),
                        format!("\"{h}\" names this column twice (headers are compared ignoring case, spaces and dash variants); remove the repeat"),
                    ),
                    Some(j) => self.errors.push(
                        &path,
                        format!("{key}.header"),
                        format!("header \"{h}\" is also accepted for columns[{j}]; each header may name one column"),
                    ),
                    None => {}
                }
            }
            let formats = |this: &mut Self, want_date: bool, want_time: bool| -> Vec<DateFormat> {
                if c.formats.is_empty() {
                    this.errors.push(&path, format!("{key}.formats"), "a date, datetime or time column needs at least one format, e.g. \"%d/%m/%Y\"");
                }
                c.formats
                    .iter()
                    .filter_map(|f| match DateFormat::compile(f) {
                        Ok(df) if df.has_date() == want_date && df.has_time() == want_time => {
                            Some(df)
                        }
                        Ok(df) => {
                            let needs = match (want_date, want_time) {
                                (true, true) => "a date and a time (e.g. \"%d/%m/%Y %H:%M\")",
                                (true, false) => "a date and no time (e.g. \"%d/%m/%Y\")",
                                _ => "a time and no date (e.g. \"%H:%M:%S\")",
                            };
                            let has = match (df.has_date(), df.has_time()) {
                                (false, false) if df.has_directive() => {
                                    "an incomplete date or time (a date needs %d, %m and %Y; a time %H and %M)"
                                }
                                (false, false) => {
                                    "no directive (%d %m %b %B %Y %H %M %S; \"yyyy\" is read as text)"
                                }
                                (true, true) => "a date and a time",
                                (true, false) => "a date only",
                                (false, true) => "a time only",
                            };
                            this.errors.push(
                                &path,
                                format!("{key}.formats"),
                                format!(
                                    "format \"{f}\" does not fit type \"{}\": it needs {needs}; this one has {has}",
                                    c.kind
                                ),
                            );
                            None
                        }
                        Err(e) => {
                            this.errors.push(&path, format!("{key}.formats"), e);
                            None
                        }
                    })
                    .collect()
            };
            let kind = match c.kind.as_str() {
                "string" => ColumnType::String,
                "integer" => ColumnType::Integer,
                "date" => ColumnType::Date(formats(self, true, false)),
                "datetime" => ColumnType::DateTime(formats(self, true, true)),
                "time" => ColumnType::Time(formats(self, false, true)),
                "code" => match &c.codes {
                    Some(list) => match self.code_list(list, &path, &format!("{key}.codes")) {
                        Some(l) => ColumnType::Code(l),
                        None => ColumnType::String,
                    },
                    None => {
                        self.errors.push(
                            &path,
                            format!("{key}.codes"),
                            format!(
                                "a code column needs a code list; {}",
                                alternatives(self.available("codes"))
                            ),
                        );
                        ColumnType::String
                    }
                },
                "nhs_number" => ColumnType::NhsNumber,
                "pseudonym" => match c.scheme.as_deref().map(str::trim) {
                    Some(s) if is_scheme_name(s) => ColumnType::Pseudonym {
                        scheme: s.to_string(),
                        ignore_case: c.ignore_case.unwrap_or(false),
                    },
                    given => {
                        self.errors.push(
                            &path,
                            format!("{key}.scheme"),
                            match given {
                                None => "a pseudonym column needs the scheme that pseudonymised its NHS numbers upstream, e.g. scheme = \"ncdr\" (only pseudonyms of one scheme link with each other)".to_string(),
                                Some(s) => format!(
                                    "\"{s}\" is not a scheme name: 1 to 64 letters, digits, '-', '_' or '.', e.g. \"ncdr\""
                                ),
                            },
                        );
                        ColumnType::String
                    }
                },
                "identifier" => ColumnType::Identifier { scope: None },
                "sensitive" => ColumnType::Sensitive,
                other => {
                    self.errors.push(
                        &path,
                        format!("{key}.type"),
                        format!("unknown type \"{other}\"; {}", alternatives(COLUMN_TYPES)),
                    );
                    ColumnType::String
                }
            };
            // An unknown type has its own error: what the column may take is unknown.
            let known = COLUMN_TYPES.contains(&c.kind.as_str());
            if known && c.scheme.is_some() && c.kind != "pseudonym" {
                self.errors.push(
                    &path,
                    format!("{key}.scheme"),
                    "only a column of type \"pseudonym\" takes a scheme",
                );
            }
            if known && c.ignore_case.is_some() && c.kind != "pseudonym" {
                self.errors.push(
                    &path,
                    format!("{key}.ignore_case"),
                    "only a column of type \"pseudonym\" takes ignore_case",
                );
            }
            if known && c.codes.is_some() && c.kind != "code" {
                self.errors.push(
                    &path,
                    format!("{key}.codes"),
                    "only a column of type \"code\" takes a code list",
                );
            }
            if known
                && !c.formats.is_empty()
                && !matches!(c.kind.as_str(), "date" | "datetime" | "time")
            {
                self.errors.push(
                    &path,
                    format!("{key}.formats"),
                    "only date, datetime and time columns take formats",
                );
            }
            if matches!(kind, ColumnType::Sensitive) && c.required {
                self.errors.push(
                    &path,
                    format!("{key}.required"),
                    "a sensitive column is discarded, so it cannot be required",
                );
            }
            let years = match c.years.as_deref() {
                None => crate::ingest::dates::PLAUSIBLE_YEARS,
                Some(&[from, to])
                    if from <= to && matches!(c.kind.as_str(), "date" | "datetime") =>
                {
                    from..=to
                }
                Some(_) => {
                    self.errors.push(
                        &path,
                        format!("{key}.years"),
                        "the first and last year a date may be in, e.g. [2000, 2100], on a date or datetime column",
                    );
                    crate::ingest::dates::PLAUSIBLE_YEARS
                }
            };
            let not_after_run_days = match c.not_after_run_days {
                None => None,
                Some(n)
                    if (0..=3660).contains(&n)
                        && (!known || matches!(c.kind.as_str(), "date" | "datetime")) =>
                {
                    i32::try_from(n).ok()
                }
                Some(n) => {
                    self.errors.push(
                        &path,
                        format!("{key}.not_after_run_days"),
                        format!(
                            "{n}: the most days a date of activity may be after the run's date, 0 to 3660 (e.g. 1), on a date or datetime column"
                        ),
                    );
                    None
                }
            };
            let pattern = match (&c.pattern, c.kind.as_str()) {
                (None, _) => None,
                (Some(text), "string" | "pseudonym") => match Pattern::new(text) {
                    Ok(p) => Some(p),
                    Err(e) => {
                        self.errors.push(
                            &path,
                            format!("{key}.pattern"),
                            format!("\"{text}\" is not a regular expression: {e}"),
                        );
                        None
                    }
                },
                (Some(_), _) if known => {
                    self.errors.push(
                        &path,
                        format!("{key}.pattern"),
                        "only a column of type \"string\" or \"pseudonym\" takes a pattern (a code column is checked against its list, the others by their type)",
                    );
                    None
                }
                (Some(_), _) => None,
            };
            let on_invalid = match c.on_invalid.as_deref().map(|n| (n, OnInvalid::named(n))) {
                None => OnInvalid::Quarantine,
                Some((_, Some(OnInvalid::Blank))) if c.required => {
                    self.errors.push(
                        &path,
                        format!("{key}.on_invalid"),
                        "a required column cannot be left blank: set required = false, or on_invalid = \"quarantine\"",
                    );
                    OnInvalid::Quarantine
                }
                Some((_, Some(o))) => o,
                Some((other, None)) => {
                    self.errors.push(
                        &path,
                        format!("{key}.on_invalid"),
                        format!(
                            "unknown action \"{other}\"; {}",
                            alternatives(OnInvalid::NAMES)
                        ),
                    );
                    OnInvalid::Quarantine
                }
            };
            columns.push(Column {
                on_invalid,
                name: c.name.clone(),
                header: c.header.clone(),
                aliases: c.aliases.clone(),
                kind,
                required: c.required,
                header_required: c.required || c.header_required,
                years,
                not_after_run_days,
                allow_nhs_number_shape: c.allow_nhs_number_shape,
                pattern,
                personal: [&c.name, &c.header]
                    .into_iter()
                    .chain(&c.aliases)
                    .any(|h| crate::schema::personal_headers::names_personal_data(h)),
            });
        }
        self.check_scopes(&path, &raw.columns, &mut columns);
        let mut rules = Vec::new();
        for (i, r) in raw.rules.iter().enumerate() {
            let key = format!("rules[{i}]");
            let kind = match r.rule.as_str() {
                "not_before" => Some(RuleKind::NotBefore),
                "not_after" => Some(RuleKind::NotAfter),
                other => {
                    self.errors.push(
                        &path,
                        format!("{key}.rule"),
                        format!("unknown rule \"{other}\"; {}", alternatives(RULES)),
                    );
                    None
                }
            };
            let mut find = |name: &str, what: &str| -> Option<usize> {
                let found = columns.iter().position(|c| c.name == name);
                if found.is_none() {
                    self.errors.push(
                        &path,
                        format!("{key}.{what}"),
                        format!(
                            "no column \"{name}\"; {}",
                            alternatives(columns.iter().map(|c| &c.name))
                        ),
                    );
                }
                found
            };
            let (col, reference) = (find(&r.column, "column"), find(&r.reference, "reference"));
            let on_fail = match r.on_fail.as_deref().map(|n| (n, OnInvalid::named(n))) {
                None => Some(OnInvalid::Quarantine),
                Some((_, Some(o))) => Some(o),
                Some((other, None)) => {
                    self.errors.push(
                        &path,
                        format!("{key}.on_fail"),
                        format!(
                            "unknown action \"{other}\"; {}",
                            alternatives(OnInvalid::NAMES)
                        ),
                    );
                    None
                }
            };
            // The column a broken rule blanks: one of its two, not required.
            let blankable: Vec<&String> = [&r.column, &r.reference]
                .into_iter()
                .filter(|n| columns.iter().any(|c| &c.name == *n && !c.required))
                .collect();
            let blank_choices = if blankable.is_empty() {
                "neither of its columns can be left blank (both are required): use on_fail = \"quarantine\"".to_string()
            } else {
                alternatives(&blankable)
            };
            let blank = match (on_fail, r.blank.as_deref()) {
                (Some(OnInvalid::Blank), Some(name)) => {
                    let pair = [&r.column, &r.reference];
                    match columns.iter().position(|c| c.name == name) {
                        Some(j) if pair.contains(&&columns[j].name) && columns[j].required => {
                            self.errors.push(
                                &path,
                                format!("{key}.blank"),
                                format!("\"{name}\" is required, so it cannot be left blank: set required = false on it, or on_fail = \"quarantine\""),
                            );
                            None
                        }
                        Some(j) if pair.contains(&&columns[j].name) => Some(Some(j)),
                        _ => {
                            self.errors.push(
                                &path,
                                format!("{key}.blank"),
                                format!(
                                    "\"{name}\" is not one of the rule's columns that may be left blank; {blank_choices}"
                                ),
                            );
                            None
                        }
                    }
                }
                (Some(OnInvalid::Blank), None) => {
                    self.errors.push(
                        &path,
                        key.clone(),
                        format!(
                            "on_fail = \"blank\" needs blank = the column to leave blank; {blank_choices}"
                        ),
                    );
                    None
                }
                (Some(OnInvalid::Quarantine), Some(_)) => {
                    self.errors.push(
                        &path,
                        format!("{key}.blank"),
                        "only a rule with on_fail = \"blank\" blanks a column",
                    );
                    None
                }
                (Some(OnInvalid::Quarantine), None) => Some(None),
                (None, _) => None,
            };
            if let (Some(kind), Some(column), Some(reference), Some(blank)) =
                (kind, col, reference, blank)
            {
                let (a, b) = (
                    columns[column].kind.stored(),
                    columns[reference].kind.stored(),
                );
                if a != b
                    || !matches!(
                        a,
                        Some(ValueType::Date | ValueType::DateTime | ValueType::Integer)
                    )
                {
                    self.errors.push(
                        &path,
                        key.clone(),
                        "rules compare two columns of the same type: date, datetime or integer",
                    );
                } else {
                    rules.push(Rule {
                        kind,
                        column,
                        reference,
                        blank,
                    });
                }
            }
        }
        self.errors.drop_follow_ons(before, &path, &partial.blanked);
        // `columns[10]` counts from 0: each of a column's problems names the column too.
        for e in self.errors.0[before..].iter_mut() {
            let index = e
                .key
                .strip_prefix("columns[")
                .and_then(|k| k.split_once(']'))
                .and_then(|(i, _)| i.parse::<usize>().ok());
            if let Some(c) = index.and_then(|i| raw.columns.get(i)) {
                e.message = format!("{} (column \"{}\")", e.message, c.name);
            }
        }
        if self.errors.len() > before || !partial.blanked.is_empty() {
            return None;
        }
        Some(Arc::new(Contract {
            name: name.to_string(),
            version: m.version,
            file: path,
            encoding,
            delimiter,
            null_values: m.null_values.clone().unwrap_or_else(|| vec![String::new()]),
            on_extra_column,
            sheet: m.sheet.clone(),
            columns,
            rules,
        }))
    }
}

impl Loader {
    /// Each `identifier` column's `scope`: another column's value, read as text, under
    /// which its ids are pseudonymised (`LA:<scope>:<id>`), so the same id from two
    /// councils is two people. So every identifier has one, and it is a `string` or
    /// `code` column (a council code) that is `required`: a scope left out, or blank, or
    /// of a type whose value is not read as text (a `sensitive` column is never read, a
    /// date is not text), is the same empty scope for every council, and the valid values
    /// offered are those columns.
    fn check_scopes(&mut self, path: &Path, raw: &[RawColumn], columns: &mut [Column]) {
        let can_scope = |j: usize| is_scope_type(&raw[j].kind) && raw[j].required;
        let valid: Vec<&str> = (0..raw.len())
            .filter(|&j| can_scope(j))
            .map(|j| raw[j].name.as_str())
            .collect();
        let valid = alternatives(&valid);
        for (i, c) in raw.iter().enumerate() {
            let message = match (&c.scope, c.kind.as_str()) {
                (Some(scope), "identifier") => match raw.iter().position(|x| &x.name == scope) {
                    Some(j) if can_scope(j) => {
                        columns[i].kind = ColumnType::Identifier { scope: Some(j) };
                        continue;
                    }
                    Some(j) if is_scope_type(&raw[j].kind) => format!(
                        "column \"{scope}\" may be blank: ids are pseudonymised under their scope's value, and under a blank one the same id from two councils would be one person; set required = true on column \"{scope}\""
                    ),
                    Some(j) => format!(
                        "column \"{scope}\" is type \"{}\": a scope is a required string or code column holding the code of the organisation that issued the id, which the id is pseudonymised under; {valid}",
                        raw[j].kind
                    ),
                    None => format!("no other column \"{scope}\"; {valid}"),
                },
                (None, "identifier") => format!(
                    "an identifier needs a scope: the column holding the code of the organisation that issued it (a council's code), which the id is pseudonymised under, so the same id from two councils stays two people; {valid}"
                ),
                (Some(_), _) => "only an identifier column takes a scope".to_string(),
                (None, _) => continue,
            };
            self.errors
                .push(path, format!("columns[{i}].scope"), message);
        }
    }
}

/// Whether a column of contract type `kind` can scope an identifier: its value is read as
/// text (a council code, as written or as its code list spells it).
fn is_scope_type(kind: &str) -> bool {
    matches!(kind, "string" | "code")
}

/// The `name` of every `[[columns]]` entry of a contract file that is valid TOML.
fn column_names_as_written(path: &Path) -> Option<Vec<String>> {
    let table: toml::Table = std::fs::read_to_string(path).ok()?.parse().ok()?;
    Some(
        table
            .get("columns")?
            .as_array()?
            .iter()
            .filter_map(|c| c.get("name")?.as_str().map(String::from))
            .collect(),
    )
}

/// Whether `s` may name a pseudonym scheme: 1 to 64 letters, digits, `-`, `_` or `.`
/// (it is part of what is hashed, `PSEUDO:<scheme>:<value>`, so it holds no `:`).
fn is_scheme_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}
