//! The checked plan: raw TOML resolved into what the stages run.
//!
//! [`load_plan`] reads the pipeline file, then every contract, code list, shared entity
//! and mapping it references, and checks each cross-reference. It never stops at the
//! first problem: everything found is returned together.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::errors::{ConfigErrors, alternatives};
use super::loader::Loader;
use super::raw::{RawPipeline, RawSource};
use crate::ingest::nhse::PublicationKind;
use crate::ingest::nhse::labels::Labels;
use crate::schema::{Contract, Entity};

/// Default share of quarantined rows above which a run exits with code 1.
pub const DEFAULT_MAX_QUARANTINE_FRACTION: f64 = 0.05;

/// Default share of a source's accepted rows without an NHS number (where its contract
/// lets the linkage key be blank) above which a run exits with code 1: unidentified A&E
/// patients are a few per cent in national ECDS; far more is a broken extract (a column
/// of pseudonyms or blanks where numbers should be), whose rows would link to nothing.
pub const DEFAULT_MAX_WITHOUT_NHS_NUMBER_FRACTION: f64 = 0.1;

/// A checked pipeline.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The pipeline file.
    pub file: PathBuf,
    /// Pipeline name.
    pub name: String,
    /// The schemas folder.
    pub schemas_dir: PathBuf,
    /// The files of the schemas folder the plan reads (its contracts, the code lists and
    /// shared entities they and its mappings, outputs and link stage name), sorted: what
    /// of the folder shapes the outputs. Another file there (a draft contract) does not.
    pub schema_files: Vec<PathBuf>,
    /// Where the pseudonymisation key comes from (`None` when nothing person-level is
    /// ingested, e.g. a pipeline of NHS England publications).
    pub key: Option<KeySource>,
    /// How much of the HMAC a pseudonym keeps (`[pseudonymisation] bits`).
    pub pseudonym_width: crate::normalise::pseudonym::Width,
    /// Person-level sources to ingest, in name order.
    pub sources: Vec<SourcePlan>,
    /// Sources to fetch into the landing zone first, in name order.
    pub fetches: Vec<super::fetch::FetchPlan>,
    /// NHS England publication sources (`kind = "nhse_sitrep"`, `"nhse_ae"`), in name order.
    pub publications: Vec<PublicationSourcePlan>,
    /// Shared entities by name.
    pub entities: BTreeMap<String, Arc<Entity>>,
    /// Linkage parameters.
    pub link: LinkPlan,
    /// Datasets to write, in name order.
    pub outputs: Vec<OutputPlan>,
    /// Incremental runs: months of look-back for late data (`None`: all months open).
    pub lookback_months: Option<u32>,
    /// Write the HTML report after publishing (`[pipeline] report = true`).
    pub report: bool,
    /// ODS code of the ICB this pipeline serves (`[pipeline] icb_code`).
    pub icb_code: Option<String>,
    /// Fewest distinct patients a provider needs in a month for `flow_daily` to publish
    /// its days (`[disclosure] daily_min_patients`;
    /// [`crate::measure::daily_population`]).
    pub daily_min_patients: usize,
}

impl Plan {
    /// Datasets the pipeline writes that none of its sources can fill (a pipeline of
    /// council data only asking for `patient_journey`): written empty on every run, which
    /// is allowed (a source may join later) but said, by `validate` and by each run.
    pub fn unfed_outputs(&self) -> Vec<String> {
        if self.sources.is_empty() {
            return Vec::new();
        }
        let fed: Vec<&str> = self
            .sources
            .iter()
            .map(|s| s.mapping.target.as_str())
            .collect();
        self.outputs
            .iter()
            .filter_map(|o| {
                let needs = o.dataset.fed_by();
                (!needs.is_empty() && !needs.iter().any(|e| fed.contains(e))).then(|| {
                    format!(
                        "{} is built from {}, which no source of the pipeline fills (its sources fill {}): it will be written empty",
                        o.dataset.name(),
                        needs.join(" or "),
                        fed.join(", ")
                    )
                })
            })
            .collect()
    }

    /// A warning when the sources key their persons differently: some by NHS numbers and
    /// some by pseudonyms made upstream, or by pseudonyms of two schemes. Persons link
    /// only between sources of one key (each key is pseudonymised in a domain of its
    /// own), so such a pipeline runs, as a pipeline of one key's sources would, but its
    /// journeys link nobody across the keys: said by `validate` and by each run.
    pub fn person_key_warnings(&self) -> Vec<String> {
        let mut keys: Vec<(String, Vec<&str>)> = Vec::new();
        for s in &self.sources {
            let Some(key) = s.person_key() else { continue };
            match keys.iter_mut().find(|(k, _)| *k == key) {
                Some((_, names)) => names.push(&s.name),
                None => keys.push((key, vec![&s.name])),
            }
        }
        if keys.len() < 2 {
            return Vec::new();
        }
        let each: Vec<String> = keys
            .iter()
            .map(|(key, names)| format!("{} by {key}", names.join(", ")))
            .collect();
        vec![format!(
            "sources key their persons differently ({}): persons link only between sources of one key, so no journey links a person across them",
            each.join("; ")
        )]
    }

    /// Sources the pipeline declares: ingested, publications, and fetched only (a MESH
    /// mailbox landed without a contract).
    pub fn source_count(&self) -> usize {
        let names: std::collections::BTreeSet<&str> = self
            .sources
            .iter()
            .map(|s| s.name.as_str())
            .chain(self.publications.iter().map(|p| p.name.as_str()))
            .chain(self.fetches.iter().map(|f| f.source.as_str()))
            .collect();
        names.len()
    }
}

/// Where the pseudonymisation key comes from. The key itself is read only when a run starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// An environment variable.
    Env(String),
    /// A file.
    File(PathBuf),
    /// An explicitly labelled demo key from the pipeline file (synthetic data only).
    Demo(String),
}

/// A checked source.
#[derive(Debug, Clone)]
pub struct SourcePlan {
    /// Source name (`apc`, `ecds`, `cld`, …).
    pub name: String,
    /// File or folder to read.
    pub path: PathBuf,
    /// File-name pattern when `path` is a folder.
    pub pattern: String,
    /// True when `path` came from `--source` on the command line.
    pub overridden: bool,
    /// True when the files are read from `<data dir>/landing/<name>` (fetched sources);
    /// `path` is then relative to the data directory.
    pub landed: bool,
    /// The contract files must meet.
    pub contract: Arc<Contract>,
    /// The mapping to the shared model.
    pub mapping: Mapping,
    /// Share of quarantined rows above which the run exits with code 1.
    pub max_quarantine_fraction: f64,
    /// Share of accepted rows without an NHS number above which the run exits with code 1
    /// (its own `max_without_nhs_number_fraction`, else `[quality]`'s).
    pub max_without_nhs_number_fraction: f64,
    /// Whether the source may hold no data rows (`allow_empty`); otherwise a run whose
    /// files of the source hold none is refused (exit 3).
    pub allow_empty: bool,
    /// A local folder's symbolic links to files outside it are read
    /// (`follow_links_outside`); otherwise each is named in a warning and not read.
    pub follow_links_outside: bool,
}

impl SourcePlan {
    /// The contract column the mapping fills `person_id` from, when it is an
    /// `nhs_number` or `pseudonym` column: the linkage key, whose blank values are the
    /// source's rows without an NHS number (`max_without_nhs_number_fraction`).
    pub fn person_column(&self) -> Option<usize> {
        self.mapping
            .fields
            .iter()
            .find_map(|(field, how)| match how {
                Some(FieldSource::Column { index, .. })
                    if field == crate::link::person_index::PERSON_ID
                        && matches!(
                            self.contract.columns[*index].kind,
                            crate::schema::ColumnType::NhsNumber
                                | crate::schema::ColumnType::Pseudonym { .. }
                        ) =>
                {
                    Some(*index)
                }
                _ => None,
            })
    }

    /// What the source keys its persons by, for the manifest: `nhs_number`, or
    /// `pseudonym:<scheme>`; `None` when its `person_id` is not filled from either.
    pub fn person_key_code(&self) -> Option<String> {
        match &self.contract.columns[self.person_column()?].kind {
            crate::schema::ColumnType::Pseudonym { scheme, .. } => {
                Some(format!("pseudonym:{scheme}"))
            }
            _ => Some("nhs_number".to_string()),
        }
    }

    /// [`Self::person_key_code`] in words: `NHS numbers`, or `pseudonyms of scheme
    /// "ncdr"`.
    pub fn person_key(&self) -> Option<String> {
        let code = self.person_key_code()?;
        Some(match code.strip_prefix("pseudonym:") {
            Some(scheme) => format!("pseudonyms of scheme \"{scheme}\""),
            None => "NHS numbers".to_string(),
        })
    }

    /// Which contract columns this source's rows are read for: those its mapping fills a
    /// field from, those its rules compare and those scoping an identifier. A column
    /// read for none of these (of any type but `nhs_number`, `pseudonym`, `identifier` and
    /// `sensitive`) never leaves ingest: it is not stored, nor copied into a quarantine
    /// record, nor checked for its type, code list, NHS-number and postcode shapes (a row
    /// is not lost over a value nobody reads); its contract `pattern` still applies.
    pub fn columns_read(&self) -> Vec<bool> {
        let mut read = vec![false; self.contract.columns.len()];
        for (_, how) in &self.mapping.fields {
            match how {
                Some(FieldSource::Column { index, .. }) => read[*index] = true,
                Some(FieldSource::DateTime { date, time }) => {
                    read[*date] = true;
                    read[*time] = true;
                }
                _ => {}
            }
        }
        for r in &self.contract.rules {
            read[r.column] = true;
            read[r.reference] = true;
        }
        // The column scoping an identifier is read to hash it (a council id under its
        // council), whether or not a field is filled from it.
        for c in &self.contract.columns {
            if let crate::schema::ColumnType::Identifier { scope: Some(s) } = c.kind {
                read[s] = true;
            }
        }
        read
    }
}

/// A checked NHS England publication source.
#[derive(Debug, Clone)]
pub struct PublicationSourcePlan {
    /// Source name (`sitrep`, `ae`, …).
    pub name: String,
    /// Which publication.
    pub kind: PublicationKind,
    /// File or folder to read.
    pub path: PathBuf,
    /// File-name pattern when `path` is a folder.
    pub pattern: String,
    /// True when `path` came from `--source` on the command line.
    pub overridden: bool,
    /// The label mapping.
    pub labels: Arc<Labels>,
}

/// A checked mapping from one contract to one entity.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// The mapping file.
    pub file: PathBuf,
    /// Target entity name.
    pub target: String,
    /// Every entity field, in entity order, with how it is filled (`None` = null).
    pub fields: Vec<(String, Option<FieldSource>)>,
}

/// How one entity field is filled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldSource {
    /// Copy a contract column (by index), optionally via its code list.
    Column {
        /// Contract column index.
        index: usize,
        /// Take the code's label or group instead of the code.
        via: Option<Via>,
    },
    /// Combine a date column and a time column.
    DateTime {
        /// Date column index.
        date: usize,
        /// Time column index.
        time: usize,
    },
    /// A constant string.
    Value(String),
    /// The name of the input file the row came from.
    SourceFile,
}

/// Which attribute of a code to take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The code's label.
    Label,
    /// The code's group.
    Group,
}

/// Linkage parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkPlan {
    /// Hours before admission within which an A&E arrival counts as leading to it.
    pub ed_window_hours: i64,
    /// Days after the ready date within which a social-care service counts as awaited.
    pub care_window_days: i64,
    /// Route of access that marks a request from hospital discharge.
    pub discharge_route: String,
    /// Days after discharge within which an emergency admission counts as a readmission.
    pub readmission_window_days: i64,
}

/// A dataset to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputPlan {
    /// Which dataset.
    pub dataset: crate::publish::Dataset,
    /// The disclosure rule for a published dataset.
    pub disclosure: crate::publish::disclosure::Rule,
}

/// A `--source name=path` override from the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceOverride {
    /// Source name.
    pub name: String,
    /// File or folder.
    pub path: PathBuf,
}

impl std::str::FromStr for SourceOverride {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.split_once('=') {
            Some((name, path)) if !name.is_empty() && !path.is_empty() => Ok(SourceOverride {
                name: name.to_string(),
                path: PathBuf::from(path),
            }),
            _ => Err(format!(
                "expected NAME=PATH, e.g. apc=extracts/apc.csv; got \"{s}\""
            )),
        }
    }
}

/// The pipeline's and its sources' names reach outputs (the `source` column of
/// `restricted/` and `published/` datasets, quarantine folders, the report, the state's
/// file name): one holding an NHS number (a source named after a test patient) is
/// refused, named with the number withheld.
fn names_without_nhs_numbers(file: &Path, raw: &RawPipeline, errors: &mut ConfigErrors) {
    use crate::ingest::quarantine::mask_file_name;
    let why = "holds what looks like an NHS number, and names reach outputs, the report and file names: choose another name";
    if mask_file_name(&raw.pipeline.name) != raw.pipeline.name {
        errors.push(file, "pipeline.name", why);
    }
    for name in raw.sources.keys() {
        let shown = mask_file_name(name);
        if shown != *name {
            errors.push(file, format!("sources.{shown}"), why);
        }
    }
}

/// Reads and checks a pipeline and everything it references.
pub fn load_plan(file: &Path, overrides: &[SourceOverride]) -> Result<Plan, ConfigErrors> {
    let mut errors = ConfigErrors::default();
    // A pipeline file with errors on lines of their own is read without those lines, so
    // its other values, contracts and mappings are checked too: every problem at once.
    let Some(Partial {
        value: raw,
        blanked,
    }) = read_toml_partial::<RawPipeline>(file, &mut errors)
    else {
        return Err(referenced_files_checked(file, errors).deduplicated());
    };
    let structural = errors.len();
    let base = file.parent().unwrap_or(Path::new(".")).to_path_buf();
    let schemas_dir = base.join(&raw.pipeline.schemas);
    if blanked.iter().any(|k| k == "pipeline.schemas") {
        // Its own error is reported; the default folder would only mislead.
        return Err(errors);
    }
    if !schemas_dir.is_dir() {
        errors.push(
            file,
            "pipeline.schemas",
            format!("folder {} does not exist", schemas_dir.display()),
        );
        return Err(errors);
    }
    let mut loader = Loader::new(schemas_dir.clone(), errors);
    names_without_nhs_numbers(file, &raw, &mut loader.errors);

    // Only person-level sources that are ingested read identifiers, so only they need a
    // key; NHS England publications are aggregates and need none.
    let ingests = raw.sources.values().any(is_person_level);
    let key = if ingests || raw.pseudonymisation.is_some() {
        check_key(
            file,
            raw.pseudonymisation.as_ref(),
            &base,
            &mut loader.errors,
        )
    } else {
        None
    };
    let pseudonym_width = check_width(file, raw.pseudonymisation.as_ref(), &mut loader.errors);

    let default_fraction = raw
        .quality
        .max_quarantine_fraction
        .unwrap_or(DEFAULT_MAX_QUARANTINE_FRACTION);
    check_fraction(
        file,
        "quality.max_quarantine_fraction",
        default_fraction,
        &mut loader.errors,
    );
    let without_nhs_number_fraction = raw
        .quality
        .max_without_nhs_number_fraction
        .unwrap_or(DEFAULT_MAX_WITHOUT_NHS_NUMBER_FRACTION);
    check_fraction(
        file,
        "quality.max_without_nhs_number_fraction",
        without_nhs_number_fraction,
        &mut loader.errors,
    );

    for (i, o) in overrides.iter().enumerate() {
        // Given twice: the second would silently win over the first.
        if let Some(first) = overrides[..i].iter().find(|f| f.name == o.name) {
            loader.errors.push(
                file,
                format!("sources.{}", o.name),
                format!(
                    "--source {} is given twice ({} and {}); give each source once (a folder reads every file its pattern matches)",
                    o.name,
                    first.path.display(),
                    o.path.display()
                ),
            );
        }
        if !raw.sources.contains_key(&o.name) {
            loader.errors.push(
                file,
                format!("sources.{}", o.name),
                format!(
                    "--source names a source the pipeline does not have; {}",
                    alternatives(raw.sources.keys())
                ),
            );
        }
    }
    if raw.sources.is_empty() {
        loader
            .errors
            .push(file, "sources", "the pipeline declares no sources");
    }

    let mut sources = Vec::new();
    let mut fetches = Vec::new();
    let mut publications = Vec::new();
    let mut labels_cache: HashMap<PathBuf, Option<Arc<Labels>>> = HashMap::new();
    for (name, source) in &raw.sources {
        let key_path = format!("sources.{name}");
        let overridden = overrides.iter().rev().find(|o| &o.name == name);
        // What to ingest: contract, mapping, pattern, threshold, and where files are.
        let (contract, mapping, pattern, (fraction, without, allow_empty), landed) = match source {
            RawSource::Local(s) => (
                Some(&s.contract),
                Some(&s.mapping),
                s.pattern.clone().unwrap_or_else(|| "*.csv".to_string()),
                (
                    s.max_quarantine_fraction,
                    s.max_without_nhs_number_fraction,
                    s.allow_empty,
                ),
                None,
            ),
            RawSource::Http(s) => {
                fetches.extend(super::fetch::http(name, s, &base, file, &mut loader.errors));
                (
                    s.contract.as_ref(),
                    s.mapping.as_ref(),
                    s.pattern.clone().unwrap_or_else(|| "*".into()),
                    (
                        s.max_quarantine_fraction,
                        s.max_without_nhs_number_fraction,
                        s.allow_empty,
                    ),
                    Some(()),
                )
            }
            RawSource::Mesh(s) => {
                fetches.extend(super::fetch::mesh(name, s, &base, file, &mut loader.errors));
                (
                    s.contract.as_ref(),
                    s.mapping.as_ref(),
                    s.pattern.clone().unwrap_or_else(|| "*".into()),
                    (
                        s.max_quarantine_fraction,
                        s.max_without_nhs_number_fraction,
                        s.allow_empty,
                    ),
                    Some(()),
                )
            }
            RawSource::FileDrop(s) => {
                fetches.push(super::fetch::file_drop(name, s, &base));
                (
                    s.contract.as_ref(),
                    s.mapping.as_ref(),
                    "*".to_string(),
                    (
                        s.max_quarantine_fraction,
                        s.max_without_nhs_number_fraction,
                        s.allow_empty,
                    ),
                    Some(()),
                )
            }
            RawSource::NhseSitrep(p) | RawSource::NhseAe(p) => {
                let kind = if matches!(source, RawSource::NhseAe(_)) {
                    PublicationKind::Ae
                } else {
                    PublicationKind::Sitrep
                };
                let labels_file = base.join(&p.labels);
                let labels = labels_cache
                    .entry(labels_file.clone())
                    .or_insert_with(|| {
                        load_labels(&labels_file, file, &key_path, &mut loader.errors)
                    })
                    .clone();
                if let Some(labels) = labels {
                    publications.push(PublicationSourcePlan {
                        name: name.clone(),
                        kind,
                        path: match overridden {
                            Some(o) => o.path.clone(),
                            None => base.join(&p.path),
                        },
                        pattern: p
                            .pattern
                            .clone()
                            .unwrap_or_else(|| kind.default_pattern().to_string()),
                        overridden: overridden.is_some(),
                        labels,
                    });
                }
                continue;
            }
        };
        let (contract_name, mapping_name) = match (contract, mapping) {
            (Some(c), Some(m)) => (c, m),
            (None, None) => {
                // Pulled only, not ingested: files given for it would be read by nothing.
                if let Some(o) = overridden {
                    loader.errors.push(
                        file,
                        &key_path,
                        format!(
                            "--source {name}={}: the source is only pulled (no contract or mapping), so nothing would read those files; give it a contract and mapping to ingest it",
                            o.path.display()
                        ),
                    );
                }
                continue;
            }
            _ => {
                loader.errors.push(file, &key_path, "give both contract and mapping to ingest the source, or neither to only pull it");
                continue;
            }
        };
        let contract = loader.contract(contract_name, file, &format!("{key_path}.contract"));
        let path = match (overridden, landed, source) {
            (Some(o), _, _) => o.path.clone(),
            (None, Some(()), _) => PathBuf::from("landing").join(name),
            (None, None, RawSource::Local(s)) => base.join(&s.path),
            (None, None, _) => unreachable!("only local sources are not landed"),
        };
        // A source's own threshold is checked at its key; the default only once, above.
        if let Some(own) = fraction {
            check_fraction(
                file,
                &format!("{key_path}.max_quarantine_fraction"),
                own,
                &mut loader.errors,
            );
        }
        let fraction = fraction.unwrap_or(default_fraction);
        if let Some(own) = without {
            check_fraction(
                file,
                &format!("{key_path}.max_without_nhs_number_fraction"),
                own,
                &mut loader.errors,
            );
        }
        let without = without.unwrap_or(without_nhs_number_fraction);
        let mapping_file = base.join(mapping_name);
        // A mapping file that is not there is the pipeline's error, at the key naming it.
        if !mapping_file.is_file() {
            loader.errors.push(
                file,
                format!("{key_path}.mapping"),
                format!("no mapping file {}", mapping_file.display()),
            );
        }
        // A broken contract still lets the mapping be read and checked against its entity,
        // so fixing the contract does not reveal a second round of errors.
        let mapping = if mapping_file.is_file() {
            loader.mapping(&mapping_file, contract.as_deref(), Some(contract_name))
        } else {
            None
        };
        if let (Some(contract), Some(mapping)) = (contract, mapping) {
            sources.push(SourcePlan {
                name: name.clone(),
                path,
                pattern,
                overridden: overridden.is_some(),
                landed: landed.is_some() && overridden.is_none(),
                contract,
                mapping,
                max_quarantine_fraction: fraction,
                max_without_nhs_number_fraction: without,
                allow_empty: allow_empty.unwrap_or(false),
                follow_links_outside: matches!(
                    source,
                    RawSource::Local(s) if s.follow_links_outside == Some(true)
                ),
            });
        }
    }

    scheme_cases_agree(&sources, &mut loader.errors);

    let person_level: Vec<&String> = raw
        .sources
        .iter()
        .filter(|(_, s)| is_person_level(s))
        .map(|(n, _)| n)
        .collect();
    let published: Vec<&String> = raw
        .sources
        .iter()
        .filter(|(_, s)| is_publication(s))
        .map(|(n, _)| n)
        .collect();
    if !person_level.is_empty() && !published.is_empty() {
        loader.errors.push(
            file,
            "sources",
            format!(
                "person-level sources ({}) and NHS England publication sources ({}) cannot share a pipeline yet; put the publications in their own pipeline (see pipelines/nhse_publications.toml)",
                person_level.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", "),
                published.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ")
            ),
        );
    }

    // The link and measure stages read these entities and fields (not for a pipeline of
    // NHS England publications, which has neither).
    if published.is_empty() {
        for (entity, fields) in crate::link::REQUIRED_FIELDS {
            loader.require_entity_fields(entity, fields, file);
        }
    }

    let link = LinkPlan {
        ed_window_hours: raw.link.ed_window_hours.unwrap_or(24),
        care_window_days: raw.link.care_window_days.unwrap_or(90),
        discharge_route: raw
            .link
            .discharge_route
            .clone()
            .unwrap_or_else(|| "Discharge from Hospital".to_string()),
        readmission_window_days: raw.link.readmission_window_days.unwrap_or(30),
    };
    if published.is_empty() {
        loader.check_discharge_route(&link.discharge_route, file);
    }
    if link.readmission_window_days < 0 {
        loader.errors.push(
            file,
            "link.readmission_window_days",
            "must be zero or more days",
        );
    }
    if link.ed_window_hours <= 0 {
        loader.errors.push(
            file,
            "link.ed_window_hours",
            "must be a positive number of hours",
        );
    }
    if link.care_window_days < 0 {
        loader
            .errors
            .push(file, "link.care_window_days", "must be zero or more days");
    }

    let rule = crate::publish::disclosure::Rule::Threshold {
        min_shown: raw
            .disclosure
            .min_shown
            .unwrap_or(crate::publish::disclosure::MIN_SHOWN),
        round_to: raw.disclosure.round_to.unwrap_or(5),
        dominance: dominance(raw.disclosure.dominance.as_ref(), file, &mut loader.errors),
    };
    if raw.disclosure.min_shown.is_some_and(|v| v < 1) {
        loader
            .errors
            .push(file, "disclosure.min_shown", "must be 1 or more");
    }
    if raw.disclosure.round_to.is_some_and(|v| v < 1) {
        loader
            .errors
            .push(file, "disclosure.round_to", "must be 1 or more");
    }
    if raw.disclosure.daily_min_patients.is_some_and(|v| v < 1) {
        loader.errors.push(
            file,
            "disclosure.daily_min_patients",
            "must be 1 or more (1 publishes every provider's days)",
        );
    }
    let daily_min_patients = raw
        .disclosure
        .daily_min_patients
        .and_then(|v| usize::try_from(v).ok())
        .filter(|v| *v >= 1)
        .unwrap_or(crate::measure::daily_population::DAILY_MIN_PATIENTS);
    // The smallest count shown must not round to 0: a count of people would read as none.
    // (Not checked against a default standing in for a value set aside with an error.)
    let set_aside = |key: &str| blanked.iter().any(|b| b == key);
    if let crate::publish::disclosure::Rule::Threshold {
        min_shown,
        round_to,
        ..
    } = rule
        && !set_aside("disclosure.min_shown")
        && !set_aside("disclosure.round_to")
        && min_shown >= 1
        && round_to > 2 * min_shown
    {
        loader.errors.push(
            file,
            "disclosure.round_to",
            format!(
                "{round_to} rounds the smallest count shown ({min_shown}) to 0, so people would be published as none; use at most {}",
                2 * min_shown
            ),
        );
    }
    // A source table set aside for its own error (an unknown kind) is not there to feed
    // an output: "the pipeline has none" would be its follow-on.
    let sources_set_aside = blanked
        .iter()
        .any(|b| b.strip_prefix("sources.").is_some_and(|n| !n.contains('.')));
    let mut outputs = Vec::new();
    for (name, out) in &raw.outputs {
        let key_path = format!("outputs.{name}");
        match crate::publish::Dataset::from_name(name) {
            Some(dataset) => {
                check_output(
                    file,
                    &key_path,
                    dataset,
                    out.disclosure.as_deref(),
                    &raw,
                    sources_set_aside,
                    &mut loader.errors,
                );
                outputs.push(OutputPlan {
                    dataset,
                    disclosure: if dataset.is_publication() {
                        crate::publish::disclosure::Rule::None
                    } else {
                        rule
                    },
                });
            }
            None => loader.errors.push(
                file,
                key_path,
                format!(
                    "unknown dataset; {}",
                    alternatives(crate::publish::Dataset::ALL.iter().map(|d| d.name()))
                ),
            ),
        }
    }
    if raw.outputs.is_empty() && (ingests || !published.is_empty()) {
        loader.errors.push(
            file,
            "outputs",
            "the pipeline ingests sources but writes no datasets",
        );
    }

    if let Some(code) = &raw.pipeline.icb_code
        && (code.is_empty() || !code.chars().all(|c| c.is_ascii_alphanumeric()))
    {
        loader.errors.push(
            file,
            "pipeline.icb_code",
            format!("\"{code}\" is not an ODS code (letters and digits, e.g. \"QHM\")"),
        );
    }

    loader.errors.drop_follow_ons(structural, file, &blanked);
    if !loader.errors.is_empty() {
        return Err(loader.errors.deduplicated());
    }
    Ok(Plan {
        file: file.to_path_buf(),
        name: raw.pipeline.name,
        schemas_dir,
        schema_files: loader.read.into_iter().collect(),
        key,
        pseudonym_width,
        sources,
        fetches: fetches
            .into_iter()
            .filter(|f| !overrides.iter().any(|o| o.name == f.source))
            .collect(),
        publications,
        entities: loader
            .entities
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect(),
        link,
        outputs,
        lookback_months: raw.incremental.lookback_months,
        report: raw.pipeline.report.unwrap_or(false),
        icb_code: raw.pipeline.icb_code,
        daily_min_patients,
    })
}

/// Every contract column of one pseudonym scheme compares its letters alike
/// (`ignore_case`): hashed in upper case by one source and as written by another, one
/// person's pseudonyms written in lower case would be two persons. A disagreement is
/// reported at each column that differs from the scheme's first.
fn scheme_cases_agree(sources: &[SourcePlan], errors: &mut ConfigErrors) {
    let mut first: BTreeMap<&str, (bool, &Path)> = BTreeMap::new();
    for s in sources {
        for (i, c) in s.contract.columns.iter().enumerate() {
            let crate::schema::ColumnType::Pseudonym {
                scheme,
                ignore_case,
            } = &c.kind
            else {
                continue;
            };
            let (case, file) = *first
                .entry(scheme)
                .or_insert((*ignore_case, &s.contract.file));
            if case != *ignore_case {
                let said = |folds: bool| {
                    if folds {
                        "regardless of case (ignore_case = true)"
                    } else {
                        "exactly"
                    }
                };
                errors.push(
                    &s.contract.file,
                    format!("columns[{i}].ignore_case"),
                    format!(
                        "pseudonyms of scheme \"{scheme}\" are compared {} here but {} in {}: every contract of one scheme must compare them alike, or one person's pseudonyms written in two cases would be two persons",
                        said(*ignore_case),
                        said(case),
                        crate::ingest::quarantine::shown_path(file)
                    ),
                );
            }
        }
    }
}

/// Loads a label mapping file named by `sources.<name>.labels`.
fn load_labels(
    labels_file: &Path,
    pipeline: &Path,
    key_path: &str,
    errors: &mut ConfigErrors,
) -> Option<Arc<Labels>> {
    if !labels_file.is_file() {
        errors.push(
            pipeline,
            format!("{key_path}.labels"),
            format!("file {} does not exist", labels_file.display()),
        );
        return None;
    }
    crate::ingest::nhse::labels::load(labels_file, errors).map(Arc::new)
}

/// True for a source whose person-level rows are ingested: a local source, or a fetched
/// one with a contract and mapping.
fn is_person_level(s: &RawSource) -> bool {
    match s {
        RawSource::Local(_) => true,
        RawSource::Http(s) => s.contract.is_some() || s.mapping.is_some(),
        RawSource::Mesh(s) => s.contract.is_some() || s.mapping.is_some(),
        RawSource::FileDrop(s) => s.contract.is_some() || s.mapping.is_some(),
        RawSource::NhseSitrep(_) | RawSource::NhseAe(_) => false,
    }
}

/// True for an NHS England publication source.
fn is_publication(s: &RawSource) -> bool {
    matches!(s, RawSource::NhseSitrep(_) | RawSource::NhseAe(_))
}

/// The `[disclosure.dominance]` rule, if given and valid; its errors pushed to `errors`.
fn dominance(
    raw: Option<&super::raw::RawDominance>,
    file: &Path,
    errors: &mut ConfigErrors,
) -> Option<crate::publish::disclosure::Dominance> {
    let raw = raw?;
    // A key's value if within `range`, else its error: `bad` of a value, `missing`.
    let mut within = |key: &str, v: Option<i64>, range, bad: &str, missing: &str| {
        let ok = v
            .and_then(|v| u8::try_from(v).ok())
            .filter(|v| std::ops::RangeInclusive::contains(&range, v));
        if ok.is_none() {
            let message = match v {
                Some(v) => format!("{v} {bad}"),
                None => format!("missing: {missing}"),
            };
            errors.push(file, format!("disclosure.dominance.{key}"), message);
        }
        ok
    };
    let top = within(
        "top",
        raw.top,
        1..=2,
        "is not a number of patients the rule sums; valid values are 1 (the largest patient) and 2 (the two largest)",
        "say how many of the largest patients the rule sums; valid values are 1 (the largest patient) and 2 (the two largest)",
    );
    let max_share_pct = within(
        "max_share_pct",
        raw.max_share_pct,
        1..=99,
        "is not a share the rule can hold to; give a whole percentage from 1 to 99",
        "give the share of a total (a whole percentage from 1 to 99) the largest patients may hold",
    );
    Some(crate::publish::disclosure::Dominance {
        top: top?,
        max_share_pct: max_share_pct?,
    })
}

/// Checks one `[outputs.<dataset>]`: its disclosure rule and that the pipeline has the
/// kind of source it is built from (taken as there when a source table was set aside).
fn check_output(
    file: &Path,
    key_path: &str,
    dataset: crate::publish::Dataset,
    disclosure: Option<&str>,
    raw: &RawPipeline,
    sources_set_aside: bool,
    errors: &mut ConfigErrors,
) {
    let has =
        |want: &dyn Fn(&RawSource) -> bool| sources_set_aside || raw.sources.values().any(want);
    if dataset.is_publication() {
        match disclosure {
            Some("none") => {}
            Some(d) => errors.push(
                file,
                format!("{key_path}.disclosure"),
                format!(
                    "\"{d}\" does not apply: {} holds NHS England's already-published statistics, which are republished as they are; {}",
                    dataset.name(),
                    alternatives(["none"])
                ),
            ),
            None => errors.push(
                file,
                format!("{key_path}.disclosure"),
                format!(
                    "missing: {} holds NHS England's already-published statistics; say so with disclosure = \"none\"",
                    dataset.name()
                ),
            ),
        }
        let (needed, found) = if dataset == crate::publish::Dataset::AeMonthly {
            ("nhse_ae", has(&|s| matches!(s, RawSource::NhseAe(_))))
        } else {
            (
                "nhse_sitrep",
                has(&|s| matches!(s, RawSource::NhseSitrep(_))),
            )
        };
        if !found {
            errors.push(
                file,
                key_path,
                format!(
                    "{} is built from a source of kind \"{needed}\", and the pipeline has none",
                    dataset.name()
                ),
            );
        }
    } else {
        if let Some(d) = disclosure
            && d != "hes"
        {
            let hint = if d == "none" {
                " (\"none\" is only for NHS England's already-published statistics)"
            } else {
                ""
            };
            errors.push(
                file,
                format!("{key_path}.disclosure"),
                format!(
                    "unknown disclosure rule \"{d}\"{hint}; {}",
                    alternatives(["hes"])
                ),
            );
        }
        if !has(&is_person_level) {
            errors.push(
                file,
                key_path,
                format!(
                    "{} is built from person-level sources (kind = \"local\", or a fetched source with a contract), and the pipeline has none",
                    dataset.name()
                ),
            );
        }
    }
}

fn check_fraction(file: &Path, key: &str, v: f64, errors: &mut ConfigErrors) {
    if !(0.0..=1.0).contains(&v) {
        errors.push(file, key, format!("must be between 0 and 1; got {v}"));
    }
}

/// `[pseudonymisation] bits`: 128 when not given.
fn check_width(
    file: &Path,
    raw: Option<&super::raw::RawPseudonymisation>,
    errors: &mut ConfigErrors,
) -> crate::normalise::pseudonym::Width {
    use crate::normalise::pseudonym::Width;
    match raw.and_then(|p| p.bits) {
        None => Width::default(),
        Some(bits) => Width::of_bits(bits).unwrap_or_else(|| {
            errors.push(
                file,
                "pseudonymisation.bits",
                format!(
                    "{bits} is not a pseudonym width; {}",
                    alternatives(Width::BITS.iter().map(u32::to_string))
                ),
            );
            Width::default()
        }),
    }
}

fn check_key(
    file: &Path,
    raw: Option<&super::raw::RawPseudonymisation>,
    base: &Path,
    errors: &mut ConfigErrors,
) -> Option<KeySource> {
    let Some(p) = raw else {
        errors.push(
            file,
            "pseudonymisation",
            "missing: name the key with key_env = \"JOINEDUP_PSEUDONYM_KEY\" or key_file = \"…\"",
        );
        return None;
    };
    let given = [
        p.key_env.as_ref().map(|v| KeySource::Env(v.clone())),
        p.key_file.as_ref().map(|v| KeySource::File(base.join(v))),
        p.demo_key.as_ref().map(|v| KeySource::Demo(v.clone())),
    ];
    let given: Vec<KeySource> = given.into_iter().flatten().collect();
    match given.as_slice() {
        [KeySource::Demo(k)] if !k.starts_with("DEMO-") => {
            errors.push(
                file,
                "pseudonymisation.demo_key",
                "a key written in a pipeline file must start with \"DEMO-\" to show it is not secret; use key_env or key_file for real data",
            );
            None
        }
        [one] => Some(one.clone()),
        [] => {
            errors.push(
                file,
                "pseudonymisation",
                "no key source; set one of key_env, key_file, demo_key",
            );
            None
        }
        _ => {
            errors.push(
                file,
                "pseudonymisation",
                "set exactly one of key_env, key_file, demo_key",
            );
            None
        }
    }
}

pub(crate) use super::toml_errors::read_toml;
use super::toml_errors::{Partial, read_toml_partial};

/// When the pipeline file itself has errors, the contracts and mappings its sources name
/// are still read and checked (found in the file read as plain TOML), so their errors
/// come in the same report rather than after the pipeline file is fixed.
fn referenced_files_checked(file: &Path, errors: ConfigErrors) -> ConfigErrors {
    let Some(table) = std::fs::read_to_string(file)
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
    else {
        return errors;
    };
    let base = file.parent().unwrap_or(Path::new(".")).to_path_buf();
    let text = |t: &toml::Table, key: &str| t.get(key).and_then(|v| v.as_str()).map(String::from);
    let Some(schemas_dir) = table
        .get("pipeline")
        .and_then(|p| p.as_table())
        .and_then(|p| text(p, "schemas"))
        .map(|s| base.join(s))
        .filter(|d| d.is_dir())
    else {
        return errors;
    };
    let mut loader = Loader::new(schemas_dir, errors);
    let sources = table.get("sources").and_then(|s| s.as_table());
    for (name, source) in sources.into_iter().flatten() {
        let Some(source) = source.as_table() else {
            continue;
        };
        let key = format!("sources.{name}");
        let contract_name = text(source, "contract");
        let contract = contract_name
            .as_deref()
            .and_then(|c| loader.contract(c, file, &format!("{key}.contract")));
        if let Some(mapping) = text(source, "mapping").map(|m| base.join(m))
            && mapping.is_file()
        {
            loader.mapping(&mapping, contract.as_deref(), contract_name.as_deref());
        }
    }
    loader.errors
}
