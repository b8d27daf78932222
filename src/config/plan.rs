//! The checked plan: raw TOML resolved into what the stages run.
//!
//! [`load_plan`] reads the pipeline file, then every contract, code list, shared entity
//! and mapping it references, and checks each cross-reference. It never stops at the
//! first problem: everything found is returned together.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::errors::{ConfigErrors, alternatives};
use super::raw::{
    RawCodeList, RawContract, RawEntity, RawFieldMapping, RawMapping, RawPipeline, RawSource,
};
use crate::ingest::dates::DateFormat;
use crate::ingest::nhse::PublicationKind;
use crate::ingest::nhse::labels::Labels;
use crate::schema::{
    Code, CodeList, Column, ColumnType, Contract, DriftPolicy, Encoding, Entity, Field, Matching,
    Rule, RuleKind, ValueType,
};

/// Default share of quarantined rows above which a run exits with code 1.
pub const DEFAULT_MAX_QUARANTINE_FRACTION: f64 = 0.05;

/// A checked pipeline.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The pipeline file.
    pub file: PathBuf,
    /// Pipeline name.
    pub name: String,
    /// The schemas folder.
    pub schemas_dir: PathBuf,
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
}

impl Plan {
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

/// Reads and checks a pipeline and everything it references.
pub fn load_plan(file: &Path, overrides: &[SourceOverride]) -> Result<Plan, ConfigErrors> {
    let mut errors = ConfigErrors::default();
    let Some(raw) = read_toml::<RawPipeline>(file, &mut errors) else {
        return Err(errors);
    };
    let base = file.parent().unwrap_or(Path::new(".")).to_path_buf();
    let schemas_dir = base.join(&raw.pipeline.schemas);
    if !schemas_dir.is_dir() {
        errors.push(
            file,
            "pipeline.schemas",
            format!("folder {} does not exist", schemas_dir.display()),
        );
        return Err(errors);
    }
    let mut loader = Loader {
        schemas_dir: schemas_dir.clone(),
        errors,
        code_lists: HashMap::new(),
        contracts: HashMap::new(),
        entities: BTreeMap::new(),
    };

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

    for o in overrides {
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
        let (contract, mapping, pattern, fraction, landed) = match source {
            RawSource::Local(s) => (
                Some(&s.contract),
                Some(&s.mapping),
                s.pattern.clone().unwrap_or_else(|| "*.csv".to_string()),
                s.max_quarantine_fraction,
                None,
            ),
            RawSource::Http(s) => {
                fetches.extend(super::fetch::http(name, s, &base, file, &mut loader.errors));
                (
                    s.contract.as_ref(),
                    s.mapping.as_ref(),
                    s.pattern.clone().unwrap_or_else(|| "*".into()),
                    s.max_quarantine_fraction,
                    Some(()),
                )
            }
            RawSource::Mesh(s) => {
                fetches.extend(super::fetch::mesh(name, s, &base, file, &mut loader.errors));
                (
                    s.contract.as_ref(),
                    s.mapping.as_ref(),
                    s.pattern.clone().unwrap_or_else(|| "*".into()),
                    s.max_quarantine_fraction,
                    Some(()),
                )
            }
            RawSource::FileDrop(s) => {
                fetches.push(super::fetch::file_drop(name, s, &base));
                (
                    s.contract.as_ref(),
                    s.mapping.as_ref(),
                    "*".to_string(),
                    s.max_quarantine_fraction,
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
            (None, None) => continue, // pulled only, not ingested
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
            loader.mapping(&mapping_file, contract.as_deref())
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
            });
        }
    }

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
    // The smallest count shown must not round to 0: a count of people would read as none.
    if let crate::publish::disclosure::Rule::Threshold {
        min_shown,
        round_to,
    } = rule
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

    if !loader.errors.is_empty() {
        return Err(loader.errors);
    }
    Ok(Plan {
        file: file.to_path_buf(),
        name: raw.pipeline.name,
        schemas_dir,
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
    })
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

/// Checks one `[outputs.<dataset>]`: its disclosure rule and that the pipeline has the
/// kind of source it is built from.
fn check_output(
    file: &Path,
    key_path: &str,
    dataset: crate::publish::Dataset,
    disclosure: Option<&str>,
    raw: &RawPipeline,
    errors: &mut ConfigErrors,
) {
    let has = |want: &dyn Fn(&RawSource) -> bool| raw.sources.values().any(want);
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

/// Loads schema files once each and records every problem.
struct Loader {
    schemas_dir: PathBuf,
    errors: ConfigErrors,
    code_lists: HashMap<String, Option<Arc<CodeList>>>,
    contracts: HashMap<String, Option<Arc<Contract>>>,
    entities: BTreeMap<String, Option<Arc<Entity>>>,
}

impl Loader {
    fn available(&self, sub: &str) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.schemas_dir.join(sub))
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter_map(|e| {
                        let p = e.path();
                        (p.extension()? == "toml")
                            .then(|| p.file_stem()?.to_str().map(String::from))?
                    })
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    fn schema_file(&mut self, sub: &str, name: &str, from: &Path, key: &str) -> Option<PathBuf> {
        let path = self.schemas_dir.join(sub).join(format!("{name}.toml"));
        if path.is_file() {
            Some(path)
        } else {
            let alts = alternatives(self.available(sub));
            self.errors.push(
                from,
                key,
                format!(
                    "no {sub} schema \"{name}\" in {}; {alts}",
                    self.schemas_dir.join(sub).display()
                ),
            );
            None
        }
    }

    fn code_list(&mut self, name: &str, from: &Path, key: &str) -> Option<Arc<CodeList>> {
        if let Some(cached) = self.code_lists.get(name) {
            return cached.clone();
        }
        let loaded = self.load_code_list(name, from, key);
        self.code_lists.insert(name.to_string(), loaded.clone());
        loaded
    }

    fn load_code_list(&mut self, name: &str, from: &Path, key: &str) -> Option<Arc<CodeList>> {
        let path = self.schema_file("codes", name, from, key)?;
        let raw: RawCodeList = read_toml(&path, &mut self.errors)?;
        if raw.name != name {
            self.errors.push(
                &path,
                "name",
                format!("is \"{}\" but the file is named \"{name}\"", raw.name),
            );
        }
        let matching = match raw.matching.as_deref() {
            None | Some("exact") => Matching::Exact,
            Some("folded") => Matching::Folded,
            Some(other) => {
                self.errors.push(
                    &path,
                    "match",
                    format!(
                        "unknown rule \"{other}\"; {}",
                        alternatives(["exact", "folded"])
                    ),
                );
                Matching::Exact
            }
        };
        let codes: Vec<Code> = raw
            .codes
            .into_iter()
            .map(|c| Code {
                code: c.code,
                label: c.label,
                group: c.group,
            })
            .collect();
        let list = CodeList::new(name.to_string(), matching, codes.clone());
        for (i, c) in codes.iter().enumerate() {
            if list
                .lookup(&c.code)
                .map(|found| found.code != c.code)
                .unwrap_or(true)
            {
                self.errors.push(
                    &path,
                    format!("codes[{i}].code"),
                    format!(
                        "\"{}\" repeats an earlier code (after {} matching)",
                        c.code,
                        if matching == Matching::Folded {
                            "folded"
                        } else {
                            "exact"
                        }
                    ),
                );
            }
        }
        Some(Arc::new(list))
    }

    fn contract(&mut self, name: &str, from: &Path, key: &str) -> Option<Arc<Contract>> {
        if let Some(cached) = self.contracts.get(name) {
            return cached.clone();
        }
        let loaded = self.load_contract(name, from, key);
        self.contracts.insert(name.to_string(), loaded.clone());
        loaded
    }

    fn load_contract(&mut self, name: &str, from: &Path, key: &str) -> Option<Arc<Contract>> {
        let path = self.schema_file("sources", name, from, key)?;
        let raw: RawContract = read_toml(&path, &mut self.errors)?;
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
                    format!(
                        "unknown encoding \"{other}\"; {}",
                        alternatives(["utf-8", "windows-1252"])
                    ),
                );
                Encoding::Utf8
            }
        };
        let delimiter = match m.delimiter.as_deref() {
            None => b',',
            Some(d) if d.len() == 1 && d.is_ascii() => d.as_bytes()[0],
            Some(d) => {
                self.errors.push(
                    &path,
                    "contract.delimiter",
                    format!("must be one ASCII character; got \"{d}\""),
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
                        alternatives(["warn", "ignore", "error"])
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
                if let Some(j) = headers_seen.insert(folded, i) {
                    self.errors.push(
                        &path,
                        format!("{key}.header"),
                        format!("header \"{h}\" is also accepted for columns[{j}]; each header may name one column"),
                    );
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
                        Ok(_) => {
                            this.errors.push(
                                &path,
                                format!("{key}.formats"),
                                format!("format \"{f}\" does not fit type \"{}\"", c.kind),
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
                "identifier" => ColumnType::Identifier { scope: None },
                "sensitive" => ColumnType::Sensitive,
                other => {
                    self.errors.push(
                        &path,
                        format!("{key}.type"),
                        format!(
                            "unknown type \"{other}\"; {}",
                            alternatives([
                                "string",
                                "integer",
                                "date",
                                "datetime",
                                "time",
                                "code",
                                "nhs_number",
                                "identifier",
                                "sensitive"
                            ])
                        ),
                    );
                    ColumnType::String
                }
            };
            if c.codes.is_some() && c.kind != "code" {
                self.errors.push(
                    &path,
                    format!("{key}.codes"),
                    "only a column of type \"code\" takes a code list",
                );
            }
            if !c.formats.is_empty() && !matches!(c.kind.as_str(), "date" | "datetime" | "time") {
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
            columns.push(Column {
                name: c.name.clone(),
                header: c.header.clone(),
                aliases: c.aliases.clone(),
                kind,
                required: c.required,
                years,
            });
        }
        // Identifier scopes refer to other columns.
        for (i, c) in raw.columns.iter().enumerate() {
            match (&c.scope, c.kind.as_str()) {
                (Some(scope), "identifier") => {
                    match columns.iter().position(|x| &x.name == scope) {
                        Some(j) if j != i => {
                            columns[i].kind = ColumnType::Identifier { scope: Some(j) }
                        }
                        _ => self.errors.push(
                            &path,
                            format!("columns[{i}].scope"),
                            format!(
                                "no other column \"{scope}\"; {}",
                                alternatives(columns.iter().map(|x| &x.name))
                            ),
                        ),
                    }
                }
                (Some(_), _) => self.errors.push(
                    &path,
                    format!("columns[{i}].scope"),
                    "only an identifier column takes a scope",
                ),
                _ => {}
            }
        }
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
                        format!(
                            "unknown rule \"{other}\"; {}",
                            alternatives(["not_before", "not_after"])
                        ),
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
            if let (Some(kind), Some(column), Some(reference)) = (kind, col, reference) {
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
                    });
                }
            }
        }
        if self.errors.len() > before {
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
            columns,
            rules,
        }))
    }

    fn entity(&mut self, name: &str, from: &Path, key: &str) -> Option<Arc<Entity>> {
        if let Some(cached) = self.entities.get(name) {
            return cached.clone();
        }
        let loaded = self.load_entity(name, from, key);
        self.entities.insert(name.to_string(), loaded.clone());
        loaded
    }

    fn load_entity(&mut self, name: &str, from: &Path, key: &str) -> Option<Arc<Entity>> {
        let path = self.schema_file("shared", name, from, key)?;
        let raw: RawEntity = read_toml(&path, &mut self.errors)?;
        let before = self.errors.len();
        if raw.entity.name != name {
            self.errors.push(
                &path,
                "entity.name",
                format!(
                    "is \"{}\" but the file is named \"{name}\"",
                    raw.entity.name
                ),
            );
        }
        let mut fields: Vec<Field> = Vec::new();
        for (i, f) in raw.fields.iter().enumerate() {
            let kind = match f.kind.as_str() {
                "string" => ValueType::String,
                "integer" => ValueType::Integer,
                "date" => ValueType::Date,
                "datetime" => ValueType::DateTime,
                "float" => ValueType::Float,
                "boolean" => ValueType::Boolean,
                other => {
                    self.errors.push(
                        &path,
                        format!("fields[{i}].type"),
                        format!(
                            "unknown type \"{other}\"; {}",
                            alternatives([
                                "string", "integer", "date", "datetime", "float", "boolean"
                            ])
                        ),
                    );
                    ValueType::String
                }
            };
            if fields.iter().any(|x| x.name == f.name) {
                self.errors.push(
                    &path,
                    format!("fields[{i}].name"),
                    format!("\"{}\" is declared twice", f.name),
                );
            }
            if let Some(list) = &f.codes {
                self.code_list(list, &path, &format!("fields[{i}].codes"));
            }
            if f.identifier && kind != ValueType::String {
                self.errors.push(
                    &path,
                    format!("fields[{i}].identifier"),
                    format!(
                        "only a string field can be an identifier; \"{}\" is {}",
                        f.name, f.kind
                    ),
                );
            }
            fields.push(Field {
                name: f.name.clone(),
                kind,
                nullable: f.nullable,
                identifier: f.identifier,
                description: f.description.clone(),
            });
        }
        if self.errors.len() > before {
            return None;
        }
        Some(Arc::new(Entity {
            name: name.to_string(),
            description: raw.entity.description,
            fields,
        }))
    }

    fn require_entity_fields(&mut self, entity: &str, fields: &[(&str, ValueType)], from: &Path) {
        let Some(e) = self.entity(entity, from, "outputs") else {
            return;
        };
        let file = self
            .schemas_dir
            .join("shared")
            .join(format!("{entity}.toml"));
        for (name, kind) in fields {
            match e.field(name) {
                Some(f) if f.kind == *kind => {}
                Some(f) => self.errors.push(
                    &file,
                    format!("fields.{name}"),
                    format!(
                        "the link stage needs type \"{}\", not \"{}\"",
                        kind.name(),
                        f.kind.name()
                    ),
                ),
                None => self.errors.push(
                    &file,
                    "fields",
                    format!(
                        "the link stage needs a field \"{name}\" of type \"{}\"",
                        kind.name()
                    ),
                ),
            }
        }
    }

    /// Reads and checks a mapping: its target entity's fields, and, when its contract
    /// loaded, every column it reads. `None` when anything is wrong or there is no
    /// contract.
    fn mapping(&mut self, file: &Path, contract: Option<&Contract>) -> Option<Mapping> {
        let raw: RawMapping = read_toml(file, &mut self.errors)?;
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
                (Some(m), Some(contract)) => self.field_mapping(file, &key, m, f, contract),
                (Some(_), None) => None,
                (None, _) => {
                    if !f.nullable && f.name != "source" {
                        self.errors.push(file, &key, format!("entity \"{}\" requires this field but the mapping does not fill it", entity.name));
                    }
                    None
                }
            };
            fields.push((f.name.clone(), source));
        }
        (self.errors.len() == before && contract.is_some()).then(|| Mapping {
            file: file.to_path_buf(),
            target: entity.name.clone(),
            fields,
        })
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
                let index = column(self, from, "from")?;
                let via = match m.via.as_deref() {
                    None => None,
                    Some("label") => Some(Via::Label),
                    Some("group") => Some(Via::Group),
                    Some(other) => {
                        self.errors.push(
                            file,
                            format!("{key}.via"),
                            format!(
                                "unknown attribute \"{other}\"; {}",
                                alternatives(["label", "group"])
                            ),
                        );
                        return None;
                    }
                };
                let col = &contract.columns[index];
                if via.is_some() && !matches!(col.kind, ColumnType::Code(_)) {
                    self.errors.push(
                        file,
                        format!("{key}.via"),
                        format!("column \"{}\" is not a code column", col.name),
                    );
                    return None;
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
                Some(FieldSource::Value(v.clone()))
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
}
