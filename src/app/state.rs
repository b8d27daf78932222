//! Incremental state: which inputs the published outputs were built from.
//!
//! `<out>/state/<pipeline>.json` is written last, after every output is in place. It records a
//! fingerprint of everything that shapes the outputs ([`Configuration`]: joinedup's build,
//! the pipeline file, the schema files the plan reads — not every file of the schemas
//! folder, so a draft contract left there changes nothing —, its mapping and label mapping
//! files, and the pseudonymisation key's fingerprint and pseudonym width, when there is a
//! key), the SHA-256 of each of those parts by name, so a rebuild can say which changed,
//! and the content hash of every input file. A run whose fingerprint and inputs equal the
//! state has nothing to do. A run that is killed before writing it leaves the previous
//! state, so the next run redoes the work and converges on the same outputs.
//!
//! Two things make a saved state not final. A `--full-refresh` marks it
//! ([`mark_full_refresh_pending`]) before it switches its first dataset, so a refresh
//! stopped part-way is redone whole by the next run, not taken for done (with
//! `[incremental] lookback_months`, an incremental run leaves closed months as they are,
//! so datasets switched by the refresh and those not yet switched would disagree for
//! good). And the run a state names must have left its manifest, which describes the
//! published datasets (the manifest is written before the state): one that did not
//! (a state left by an older joinedup that crashed between the two) is rebuilt
//! ([`Changes::unrecorded_run`]). Nor may a later run have begun switching datasets
//! into place without saving its state (its manifest `publishing` or
//! `failed_after_publish`): the published datasets may hold its data, so they are
//! rebuilt even when the inputs equal the state ([`Changes::switched_unsaved`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Plan;
use crate::error::{Error, Result};
use crate::normalise::pseudonym::Pseudonymiser;
use crate::pull::InputFile;

/// The saved state.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct State {
    /// Format version.
    pub version: u32,
    /// Fingerprint of configuration, key and joinedup build ([`Configuration`]).
    pub fingerprint: String,
    /// The parts of the configuration by name, each with its SHA-256 ([`Configuration`]).
    /// Empty in states written before it was recorded: a change is then not named.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub configuration: BTreeMap<String, String>,
    /// Input files per source: path → SHA-256. (Version 1 kept SHA-256 → path, which
    /// lost a file whose bytes equal another's: [`load`] reads it the new way round.)
    pub inputs: BTreeMap<String, BTreeMap<String, String>>,
    /// The run that wrote this state.
    pub run_id: String,
    /// The dataset folders the pipeline writes (`restricted/hospital_spell`,
    /// `quarantine/apc`, …): a data directory's datasets belong to one pipeline each
    /// ([`claimed_elsewhere`]). Empty in states written before it was recorded.
    #[serde(default)]
    pub outputs: Vec<String>,
    /// The pipeline's name as written (the file name is it with `.`, spaces and the like
    /// replaced, so two names can share a file). Empty in states written before it was
    /// recorded.
    #[serde(default)]
    pub pipeline: String,
    /// True from the moment a `--full-refresh` starts switching datasets into place until
    /// it saves its own state: the next run does the full refresh again.
    #[serde(default, skip_serializing_if = "is_false")]
    pub full_refresh_pending: bool,
    /// The run dates the run's readings hold for (every file's dates checked against the
    /// run's date: [`crate::run_date::RunDates`]): a run with the same inputs on a date
    /// outside them builds again.
    #[serde(default, skip_serializing_if = "is_unbounded")]
    pub run_dates: crate::run_date::RunDates,
}

fn is_unbounded(d: &crate::run_date::RunDates) -> bool {
    *d == crate::run_date::RunDates::default()
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// How the current inputs differ from the state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changes {
    /// `source: path` of files not in the state.
    pub new: Vec<String>,
    /// `source: path` of files in the state whose content has changed since.
    #[serde(default)]
    pub changed: Vec<String>,
    /// `source: path` of files in the state but gone now.
    pub removed: Vec<String>,
    /// Files unchanged since the state.
    pub unchanged: usize,
    /// True when configuration, key, pseudonym width or joinedup build changed (or there is no state).
    pub configuration_changed: bool,
    /// What changed when `configuration_changed`: each part named as [`Configuration`]
    /// names it (`pipeline file`, a schema or mapping file by its path, `key`, `pseudonym
    /// width`, `joinedup build`; one read only now or no longer `(now used)`, `(no longer
    /// used)`), or `first run`. Empty when the saved state predates the record of parts, or
    /// cannot be read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub configuration_changes: Vec<String>,
    /// True when the run was asked to rebuild everything (`--full-refresh`).
    #[serde(default)]
    pub full_refresh: bool,
    /// The saved state exists but cannot be read: its path and why. The run rebuilds
    /// everything, as on a first run, and writes the state anew.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_unreadable: Option<String>,
    /// True when a `--full-refresh` was stopped after it began switching datasets into
    /// place ([`State::full_refresh_pending`]): this run does it again.
    #[serde(default, skip_serializing_if = "is_false")]
    pub full_refresh_unfinished: bool,
    /// The run the saved state names, when its manifest (which describes the published
    /// datasets) is missing or lists none: the datasets are rebuilt, so a manifest
    /// describes them again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unrecorded_run: Option<String>,
    /// A run after the one the saved state names that may have switched datasets into
    /// place without saving its state (its manifest `publishing`: killed outright; or
    /// `failed_after_publish`): the published datasets may hold its data, so they are
    /// built again even when the inputs equal the state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub switched_unsaved: Option<String>,
    /// Why the saved state's readings do not hold on this run's date (a row held back as
    /// dated after the run is now due): the datasets are built again, files whose
    /// readings hold coming from the ingest cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_date_moved: Option<String>,
}

impl Changes {
    /// True when there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.new.is_empty()
            && self.changed.is_empty()
            && self.removed.is_empty()
            && self.unrecorded_run.is_none()
            && self.switched_unsaved.is_none()
            && self.run_date_moved.is_none()
            && !self.rebuild_all()
    }

    /// True when every input is read again and every month rewritten.
    pub fn rebuild_all(&self) -> bool {
        self.configuration_changed || self.full_refresh || self.full_refresh_unfinished
    }

    /// True when this run is a full refresh: asked for (`--full-refresh`), or one stopped
    /// part-way done again. Its ingest cache is emptied first, and its state marked until
    /// it is done ([`mark_full_refresh_pending`]).
    pub fn is_full_refresh(&self) -> bool {
        self.full_refresh || self.full_refresh_unfinished
    }

    /// Why everything is rebuilt, when it is.
    pub fn rebuild_reason(&self) -> Option<String> {
        if self.full_refresh {
            Some("--full-refresh".to_string())
        } else if self.full_refresh_unfinished {
            Some("a --full-refresh was stopped before it finished; it is done again".to_string())
        } else if let Some(why) = &self.state_unreadable {
            Some(format!("the saved state cannot be read: {why}"))
        } else if self.configuration_changed {
            Some(self.configuration_reason())
        } else if let Some(id) = &self.unrecorded_run {
            Some(format!(
                "the manifest of run {id}, which built the published datasets, is missing; they are built again so that a manifest describes them"
            ))
        } else if let Some(id) = &self.switched_unsaved {
            Some(format!(
                "run {id} was stopped after it began switching its datasets into place, so some may hold its data; they are built again"
            ))
        } else {
            self.run_date_moved
                .as_ref()
                .map(|why| format!("the last run's readings depend on its date: {why}"))
        }
    }

    /// Why the configuration counts as changed: the parts that did, when the saved state
    /// records them ([`Changes::configuration_changes`]), at most [`PARTS_NAMED`] of them.
    fn configuration_reason(&self) -> String {
        match self.configuration_changes.as_slice() {
            [] => "configuration, key, pseudonym width or joinedup build changed, or first run"
                .to_string(),
            [only] if only == FIRST_RUN => FIRST_RUN.to_string(),
            parts => {
                let mut named = parts[..parts.len().min(PARTS_NAMED)].join(", ");
                if parts.len() > PARTS_NAMED {
                    named.push_str(&format!(" and {} more", parts.len() - PARTS_NAMED));
                }
                format!("changed since the last run: {named}")
            }
        }
    }

    /// The warning a run (and `explain`, `status`) gives when the saved state exists but
    /// cannot be read.
    pub fn state_warning(&self) -> Option<String> {
        self.state_unreadable.as_ref().map(|why| {
            format!(
                "the saved state cannot be read: {why}; every input is read and every dataset rebuilt, as on a first run, and the state is written anew"
            )
        })
    }

    /// "2 new, 1 changed and 0 removed input file(s)".
    pub fn files_line(&self) -> String {
        format!(
            "{} new, {} changed and {} removed input file(s)",
            self.new.len(),
            self.changed.len(),
            self.removed.len()
        )
    }

    /// One line per new, changed or removed file, indented, in that order; paths without
    /// an NHS-number shape (a file may be named after its patient).
    pub fn file_lines(&self) -> String {
        let mut s = String::new();
        for (what, files) in [
            ("new", &self.new),
            ("changed", &self.changed),
            ("removed", &self.removed),
        ] {
            for f in files {
                s.push_str(&format!(
                    "  {what:<9}{}\n",
                    crate::ingest::quarantine::mask_file_name(f)
                ));
            }
        }
        s
    }
}

/// One state file per pipeline, so pipelines sharing a data directory (the person-level
/// pipeline and the NHS England publications, say) do not see each other as changes.
fn path(out: &Path, pipeline: &str) -> PathBuf {
    let safe: String = pipeline
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    out.join("state").join(format!("{safe}.json"))
}

/// The configuration fingerprints of every pipeline's saved state in `out`.
pub fn fingerprints(out: &Path) -> BTreeSet<String> {
    std::fs::read_dir(out.join("state"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .filter_map(|t| serde_json::from_str::<State>(&t).ok())
        .map(|s| s.fingerprint)
        .collect()
}

/// The state format [`current`] writes: inputs keyed by path.
const VERSION: u32 = 2;

/// Reads a pipeline's state: `None` when there is none (a first run). A state file that
/// is there but cannot be read or parsed is an error naming the file and why (it was
/// taken for a first run, silently). A version-1 state (inputs keyed by content) is turned
/// the new way round; of two files with the same bytes it had kept one, so the other is
/// seen as new and the next run rebuilds from it.
pub fn load(out: &Path, pipeline: &str) -> std::result::Result<Option<State>, String> {
    let file = path(out, pipeline);
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", file.display())),
    };
    let mut state: State =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    if state.version < VERSION {
        for files in state.inputs.values_mut() {
            *files = std::mem::take(files)
                .into_iter()
                .map(|(sha, path)| (path, sha))
                .collect();
        }
        state.version = VERSION;
    }
    Ok(Some(state))
}

/// Writes a pipeline's state atomically.
pub fn save(out: &Path, pipeline: &str, state: &State) -> Result<()> {
    let json =
        serde_json::to_vec_pretty(state).map_err(|e| Error::Internal(format!("state: {e}")))?;
    crate::publish::staging::write_atomic(&path(out, pipeline), &json)?;
    // It keeps each input's path (a name may hold a patient's NHS number).
    crate::publish::staging::close_to_others(&out.join("state"));
    Ok(())
}

/// Marks the pipeline's saved state as a full refresh in progress (durably), before the
/// refresh switches its first dataset: a refresh stopped after that is redone by the next
/// run ([`Changes::full_refresh_unfinished`]). Without a readable saved state there is
/// nothing to mark (the next run rebuilds everything anyway).
pub fn mark_full_refresh_pending(out: &Path, pipeline: &str) -> Result<()> {
    match load(out, pipeline) {
        Ok(Some(mut state)) if !state.full_refresh_pending => {
            state.full_refresh_pending = true;
            save(out, pipeline, &state)
        }
        _ => Ok(()),
    }
}

/// The state the current inputs would leave under `configuration`, for a pipeline writing
/// `outputs` ([`dataset_folders`]).
pub fn current(
    configuration: &Configuration,
    run_id: &str,
    sources: &[(String, Vec<InputFile>)],
    outputs: Vec<String>,
) -> State {
    State {
        outputs,
        pipeline: String::new(),
        full_refresh_pending: false,
        run_dates: Default::default(),
        version: VERSION,
        fingerprint: configuration.fingerprint.clone(),
        configuration: configuration.parts.clone(),
        inputs: sources
            .iter()
            .map(|(name, files)| {
                (
                    name.clone(),
                    files
                        .iter()
                        .map(|f| (key_of(&f.path), f.sha256.clone()))
                        .collect(),
                )
            })
            .collect(),
        run_id: run_id.to_string(),
    }
}

/// The dataset folders `plan` writes, relative to the data directory, sorted.
pub fn dataset_folders(plan: &Plan) -> Vec<String> {
    let mut folders: Vec<String> = plan
        .outputs
        .iter()
        .map(|o| format!("{}/{}", o.dataset.access().folder(), o.dataset.name()))
        .chain(
            plan.sources
                .iter()
                .map(|s| format!("quarantine/{}", s.name)),
        )
        .collect();
    folders.sort();
    folders.dedup();
    folders
}

/// Another pipeline's state in the data directory that claims some of `folders`: its
/// name, its state file and the folders both claim. A run of `pipeline` would replace
/// that pipeline's datasets, and its next run would find its state up to date. The
/// state file `pipeline` would write counts too when another name wrote it (`icb.a`
/// and `icb_a` share `icb_a.json`).
pub fn claimed_elsewhere(
    out: &Path,
    pipeline: &str,
    folders: &[String],
) -> Option<(String, PathBuf, Vec<String>)> {
    let mine = path(out, pipeline);
    saved_states(out).into_iter().find_map(|(p, state)| {
        if p == mine && (state.pipeline.is_empty() || state.pipeline == pipeline) {
            return None;
        }
        let both: Vec<String> = folders
            .iter()
            .filter(|f| state.outputs.contains(f))
            .cloned()
            .collect();
        let name = if state.pipeline.is_empty() {
            p.file_stem()?.to_string_lossy().into_owned()
        } else {
            state.pipeline.clone()
        };
        (!both.is_empty()).then_some((name, p, both))
    })
}

/// Every readable state file of the data directory, in file-name order.
fn saved_states(out: &Path) -> Vec<(PathBuf, State)> {
    let mut states: Vec<(PathBuf, State)> = std::fs::read_dir(out.join("state"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter_map(|p| {
            let state = serde_json::from_str(&std::fs::read_to_string(&p).ok()?).ok()?;
            Some((p, state))
        })
        .collect();
    states.sort_by(|a, b| a.0.cmp(&b.0));
    states
}

/// Dataset folders of the data directory that neither `pipeline` (which writes `mine`)
/// nor another pipeline's state lists (a source or an output removed from its pipeline):
/// no longer updated, though they look current. Nothing is said while another state
/// predates the list (it could be that state's).
pub fn unclaimed_datasets(out: &Path, pipeline: &str, mine: &[String]) -> Vec<String> {
    let own = path(out, pipeline);
    let states = saved_states(out);
    if states.is_empty() {
        return Vec::new();
    }
    let mut claimed: BTreeSet<String> = mine.iter().cloned().collect();
    for (p, state) in states {
        if p == own {
            continue;
        }
        if state.outputs.is_empty() {
            return Vec::new();
        }
        claimed.extend(state.outputs);
    }
    let mut unclaimed = Vec::new();
    for area in ["restricted", "published", "quarantine"] {
        let Ok(folders) = std::fs::read_dir(out.join(area)) else {
            continue;
        };
        for f in folders.flatten() {
            let rel = format!("{area}/{}", f.file_name().to_string_lossy());
            if f.path().is_dir() && !claimed.contains(&rel) {
                unclaimed.push(rel);
            }
        }
    }
    unclaimed.sort();
    unclaimed
}

/// The state's key for an input file: its canonical path, so the same file is the same
/// input however the pipeline path was spelled (`p.toml`, `./p.toml`, an absolute path,
/// a symlinked folder). Spelled as given, a cron job and an operator's `status` from
/// another directory each saw every file as new.
fn key_of(path: &Path) -> String {
    // Bytes that are not UTF-8 as `%XX`: two such names are two keys.
    crate::ingest::quarantine::path_text(
        &std::fs::canonicalize(path)
            .or_else(|_| std::path::absolute(path))
            .unwrap_or_else(|_| path.to_path_buf()),
    )
}

/// Compares the current inputs with the saved state.
pub fn changes(previous: Option<&State>, now: &State) -> Changes {
    let empty = BTreeMap::new();
    let configuration_changed = previous.is_none_or(|p| p.fingerprint != now.fingerprint);
    let mut c = Changes {
        configuration_changed,
        configuration_changes: match previous {
            _ if !configuration_changed => Vec::new(),
            None => vec![FIRST_RUN.to_string()],
            Some(p) => parts_changed(&p.configuration, &now.configuration),
        },
        full_refresh_unfinished: previous.is_some_and(|p| p.full_refresh_pending),
        ..Changes::default()
    };
    let sources: BTreeSet<&String> = now
        .inputs
        .keys()
        .chain(previous.map(|p| p.inputs.keys()).into_iter().flatten())
        .collect();
    for s in sources {
        let before = previous.and_then(|p| p.inputs.get(s)).unwrap_or(&empty);
        let after = now.inputs.get(s).unwrap_or(&empty);
        for (path, sha) in after {
            match before.get(path) {
                Some(was) if was == sha => c.unchanged += 1,
                Some(_) => c.changed.push(format!("{s}: {path}")),
                None => c.new.push(format!("{s}: {path}")),
            }
        }
        for path in before.keys() {
            if !after.contains_key(path) {
                c.removed.push(format!("{s}: {path}"));
            }
        }
    }
    c.new.sort();
    c.changed.sort();
    c.removed.sort();
    c
}

/// What [`Changes::configuration_changes`] says when there is no saved state.
pub const FIRST_RUN: &str = "first run";

/// Parts named in a rebuild's reason at most; the rest are counted.
const PARTS_NAMED: usize = 5;

/// The parts that differ between two configurations, by name: changed, `(now used)` or
/// `(no longer used)`. Empty when `before` has none (a state written before they were
/// recorded): what changed is then not known.
fn parts_changed(before: &BTreeMap<String, String>, now: &BTreeMap<String, String>) -> Vec<String> {
    if before.is_empty() {
        return Vec::new();
    }
    let names: BTreeSet<&String> = before.keys().chain(now.keys()).collect();
    names
        .into_iter()
        .filter_map(|name| match (before.get(name), now.get(name)) {
            (Some(a), Some(b)) if a == b => None,
            (Some(_), Some(_)) => Some(name.clone()),
            (None, _) => Some(format!("{name} (now used)")),
            (_, None) => Some(format!("{name} (no longer used)")),
        })
        .collect()
}

/// Everything that shapes the outputs besides the input files, part by part, and the
/// fingerprint of them all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Configuration {
    /// The fingerprint of every part (name and hash): a run under another one rebuilds
    /// everything, and uses another ingest cache.
    pub fingerprint: String,
    /// Each part by name → the SHA-256 of what it is: `pipeline file`; each schema file
    /// the plan reads, by its path from the schemas folder's parent
    /// (`schemas/sources/cld.toml`); each mapping and label mapping file, by its path from
    /// the pipeline file's folder (`mappings/cld.toml`); `key` (its fingerprint) and
    /// `pseudonym width`, when the pipeline makes pseudonyms; `joinedup build`.
    pub parts: BTreeMap<String, String>,
}

/// The configuration of `plan` under the pseudonymiser that would make its pseudonyms
/// (`None` when the pipeline makes none).
pub fn configuration(plan: &Plan, pseudonyms: Option<&Pseudonymiser>) -> Result<Configuration> {
    configuration_of_build(plan, pseudonyms, BUILD)
}

/// This build of joinedup: its crate version and a hash of its sources (`build.rs`).
pub const BUILD: &str = concat!(env!("CARGO_PKG_VERSION"), " ", env!("JOINEDUP_BUILD"));

/// [`configuration`] as the build `build` would take it.
fn configuration_of_build(
    plan: &Plan,
    pseudonyms: Option<&Pseudonymiser>,
    build: &str,
) -> Result<Configuration> {
    let mut parts = BTreeMap::new();
    // The build, not only the version: another commit under the same version may check
    // or map rows differently, and its cached rows must not be reused.
    parts.insert("joinedup build".to_string(), sha256_hex(build.as_bytes()));
    if let Some(p) = pseudonyms {
        parts.insert("key".to_string(), sha256_hex(p.fingerprint().as_bytes()));
        parts.insert(
            "pseudonym width".to_string(),
            sha256_hex(p.scheme().as_bytes()),
        );
    }
    parts.insert("pipeline file".to_string(), file_sha256(&plan.file)?);
    for f in &plan.schema_files {
        parts.insert(schema_file_name(plan, f), file_sha256(f)?);
    }
    let beside_pipeline = plan
        .sources
        .iter()
        .map(|s| &s.mapping.file)
        .chain(plan.publications.iter().map(|p| &p.labels.file));
    for f in beside_pipeline {
        parts.insert(pipeline_file_name(plan, f), file_sha256(f)?);
    }
    let mut h = Sha256::new();
    h.update(b"joinedup configuration 2\n");
    for (name, sha) in &parts {
        h.update(name.as_bytes());
        h.update(b"\0");
        h.update(sha.as_bytes());
        h.update(b"\n");
    }
    Ok(Configuration {
        fingerprint: hex(&h.finalize()),
        parts,
    })
}

/// A schema file's name as a part: its path from the schemas folder's parent, the same
/// however the pipeline names the folder (`../schemas`, an absolute path).
fn schema_file_name(plan: &Plan, file: &Path) -> String {
    let folder = std::fs::canonicalize(&plan.schemas_dir)
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "schemas".to_string());
    match file.strip_prefix(&plan.schemas_dir) {
        Ok(rel) => format!("{folder}/{}", rel.display()),
        Err(_) => file.display().to_string(),
    }
}

/// A mapping or label mapping file's name as a part: its path as the pipeline file names
/// it (from the pipeline file's folder).
fn pipeline_file_name(plan: &Plan, file: &Path) -> String {
    let base = plan.file.parent().unwrap_or(Path::new(""));
    file.strip_prefix(base)
        .unwrap_or(file)
        .display()
        .to_string()
}

fn file_sha256(file: &Path) -> Result<String> {
    let bytes = std::fs::read(file).map_err(|e| Error::io("reading", file, e))?;
    Ok(sha256_hex(&bytes))
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The state of a pipeline writing no datasets, under a configuration whose parts are
    /// not recorded (as in a state written before they were).
    fn current(fingerprint: &str, run_id: &str, sources: &[(String, Vec<InputFile>)]) -> State {
        let configuration = Configuration {
            fingerprint: fingerprint.to_string(),
            parts: BTreeMap::new(),
        };
        super::current(&configuration, run_id, sources, Vec::new())
    }

    fn input(path: &str, sha: &str) -> InputFile {
        InputFile {
            path: path.into(),
            bytes: 1,
            sha256: sha.into(),
            stamp: None,
        }
    }

    #[test]
    fn the_configuration_fingerprint_covers_how_pseudonyms_are_made() {
        // A data directory written under another pseudonym scheme or key must be rebuilt
        // (state and ingest cache), never mixed with new pseudonyms.
        let plan = crate::config::load_plan(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/sample.toml"),
            &[],
        )
        .unwrap();
        use crate::normalise::pseudonym::{Pseudonymiser, Width};
        let key = b"DEMO-key-0123456789";
        let short = Pseudonymiser::new(key, Width::Bits128).unwrap();
        let whole = Pseudonymiser::new(key, Width::Bits256).unwrap();
        let other_key = Pseudonymiser::new(b"DEMO-key-9876543210", Width::Bits128).unwrap();
        let of = |p: &Pseudonymiser| configuration(&plan, Some(p)).unwrap();
        let now = of(&short);
        assert_eq!(now, of(&short));
        assert_ne!(now.fingerprint, of(&whole).fingerprint);
        assert_ne!(now.fingerprint, of(&other_key).fingerprint);
        assert_eq!(
            parts_changed(&now.parts, &of(&whole).parts),
            ["pseudonym width"]
        );
        assert_eq!(parts_changed(&now.parts, &of(&other_key).parts), ["key"]);
        assert!(short.provenance().starts_with("HMAC-SHA-256-128"));
    }

    /// Regression (known limit since session 12): the fingerprint carried the crate
    /// version only, so a data directory written by another commit under the same
    /// version reused its ingest cache and state: rows checked or mapped by other code
    /// were mixed with new ones. It now carries the build (a hash of the sources).
    #[test]
    fn regression_the_configuration_fingerprint_covers_the_build() {
        let plan = crate::config::load_plan(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/sample.toml"),
            &[],
        )
        .unwrap();
        let now = configuration(&plan, None).unwrap();
        assert_eq!(now, configuration_of_build(&plan, None, BUILD).unwrap());
        let version = env!("CARGO_PKG_VERSION");
        let other =
            configuration_of_build(&plan, None, &format!("{version} 0000000000000000")).unwrap();
        assert_ne!(now.fingerprint, other.fingerprint);
        assert_eq!(parts_changed(&now.parts, &other.parts), ["joinedup build"]);
        // The build is the version and 16 hex digits of the sources' hash.
        let hash = BUILD.strip_prefix(&format!("{version} ")).unwrap();
        assert_eq!(hash.len(), 16);
        assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()), "{hash}");
    }

    #[test]
    fn changes_name_new_and_removed_files() {
        let before = current(
            "f",
            "r1",
            &[(
                "cld".into(),
                vec![input("/in/a.csv", "1"), input("/in/b.csv", "2")],
            )],
        );
        let same = current(
            "f",
            "r2",
            &[(
                "cld".into(),
                vec![input("/in/a.csv", "1"), input("/in/b.csv", "2")],
            )],
        );
        assert!(changes(Some(&before), &same).is_empty());
        let later = current(
            "f",
            "r3",
            &[(
                "cld".into(),
                vec![input("/in/a.csv", "1"), input("/in/c.csv", "3")],
            )],
        );
        let c = changes(Some(&before), &later);
        assert_eq!(
            (
                c.new,
                c.changed,
                c.removed,
                c.unchanged,
                c.configuration_changed
            ),
            (
                vec!["cld: /in/c.csv".to_string()],
                vec![],
                vec!["cld: /in/b.csv".to_string()],
                1,
                false
            )
        );
        let reconfigured = current("g", "r4", &[("cld".into(), vec![input("/in/a.csv", "1")])]);
        assert!(changes(Some(&before), &reconfigured).configuration_changed);
        assert!(changes(None, &before).configuration_changed);
    }

    #[test]
    fn regression_a_file_with_the_same_bytes_as_another_is_still_an_input() {
        // Inputs were keyed by content: a copy of a file under another name was never
        // seen (nor its removal), so incremental and full runs disagreed.
        let before = current("f", "r1", &[("cld".into(), vec![input("/in/a.csv", "1")])]);
        let copied = current(
            "f",
            "r2",
            &[(
                "cld".into(),
                vec![input("/in/a.csv", "1"), input("/in/copy.csv", "1")],
            )],
        );
        assert_eq!(copied.inputs["cld"].len(), 2);
        let c = changes(Some(&before), &copied);
        assert_eq!(
            (c.new, c.unchanged),
            (vec!["cld: /in/copy.csv".to_string()], 1)
        );
        let c = changes(Some(&copied), &before);
        assert_eq!(
            (c.removed, c.unchanged),
            (vec!["cld: /in/copy.csv".to_string()], 1)
        );
    }

    #[test]
    fn a_file_rewritten_in_place_is_changed_and_a_renamed_one_new_and_removed() {
        let before = current("f", "r1", &[("cld".into(), vec![input("/in/a.csv", "1")])]);
        let rewritten = current("f", "r2", &[("cld".into(), vec![input("/in/a.csv", "2")])]);
        let c = changes(Some(&before), &rewritten);
        assert_eq!(
            (c.new.len(), c.changed.clone(), c.removed.len()),
            (0, vec!["cld: /in/a.csv".to_string()], 0)
        );
        assert_eq!(
            c.files_line(),
            "0 new, 1 changed and 0 removed input file(s)"
        );
        assert_eq!(c.file_lines(), "  changed  cld: /in/a.csv\n");
        assert!(!c.is_empty() && !c.rebuild_all());
        // The file name is in the outputs (`source_file`): a rename is a change.
        let renamed = current("f", "r3", &[("cld".into(), vec![input("/in/b.csv", "1")])]);
        let c = changes(Some(&before), &renamed);
        assert_eq!(
            (c.new, c.removed),
            (
                vec!["cld: /in/b.csv".to_string()],
                vec!["cld: /in/a.csv".to_string()]
            )
        );
    }

    #[test]
    fn a_version_1_state_is_read_by_path() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("state")).unwrap();
        std::fs::write(
            dir.path().join("state/p.json"),
            r#"{"version":1,"fingerprint":"f","inputs":{"cld":{"1":"/in/a.csv","2":"/in/b.csv"}},"run_id":"r"}"#,
        )
        .unwrap();
        let state = load(dir.path(), "p").unwrap().unwrap();
        assert_eq!(state.version, 2);
        let now = current(
            "f",
            "r2",
            &[(
                "cld".into(),
                vec![input("/in/a.csv", "1"), input("/in/b.csv", "2")],
            )],
        );
        assert!(changes(Some(&state), &now).is_empty());
    }

    #[test]
    fn a_full_refresh_is_its_own_reason() {
        let c = Changes {
            full_refresh: true,
            ..Changes::default()
        };
        assert!(c.rebuild_all() && !c.is_empty());
        assert_eq!(c.rebuild_reason().as_deref(), Some("--full-refresh"));
        let c = Changes {
            configuration_changed: true,
            ..Changes::default()
        };
        assert_eq!(
            c.rebuild_reason().as_deref(),
            Some("configuration, key, pseudonym width or joinedup build changed, or first run")
        );
        assert_eq!(Changes::default().rebuild_reason(), None);
    }

    /// Regression (review): `--full-refresh` lived only in the run's `Changes`, so one
    /// killed part-way through the switch left the next run "up to date" with datasets
    /// that disagreed (under `lookback_months`). It is marked in the state before the
    /// first switch, and the next run does it again, cache and all.
    #[test]
    fn regression_a_full_refresh_stopped_part_way_is_done_again_by_the_next_run() {
        let dir = tempfile::tempdir().unwrap();
        let inputs = [("cld".to_string(), vec![input("/in/a.csv", "1")])];
        mark_full_refresh_pending(dir.path(), "p").unwrap();
        assert_eq!(load(dir.path(), "p"), Ok(None), "no state: nothing to mark");
        let saved = current("f", "r1", &inputs);
        save(dir.path(), "p", &saved).unwrap();
        assert!(
            !std::fs::read_to_string(dir.path().join("state/p.json"))
                .unwrap()
                .contains("full_refresh_pending"),
            "not written while false"
        );
        mark_full_refresh_pending(dir.path(), "p").unwrap();
        let marked = load(dir.path(), "p").unwrap().unwrap();
        assert!(marked.full_refresh_pending);
        let c = changes(Some(&marked), &current("f", "r2", &inputs));
        assert!(c.full_refresh_unfinished && c.rebuild_all() && c.is_full_refresh());
        assert!(!c.is_empty() && !c.full_refresh);
        assert_eq!(
            c.rebuild_reason().as_deref(),
            Some("a --full-refresh was stopped before it finished; it is done again")
        );
        // The run that does it saves a state without the mark.
        save(dir.path(), "p", &current("f", "r2", &inputs)).unwrap();
        let done = load(dir.path(), "p").unwrap().unwrap();
        assert!(changes(Some(&done), &current("f", "r3", &inputs)).is_empty());
    }

    /// Regression (review): a run killed while switching datasets into place left them
    /// holding its data with the previous run's state; with the inputs put back as the
    /// state has them the next run found nothing to do.
    #[test]
    fn regression_a_later_run_that_switched_without_saving_its_state_is_not_up_to_date() {
        let c = Changes {
            switched_unsaved: Some("r2".to_string()),
            ..Changes::default()
        };
        assert!(!c.is_empty() && !c.rebuild_all() && !c.is_full_refresh());
        assert_eq!(
            c.rebuild_reason().as_deref(),
            Some(
                "run r2 was stopped after it began switching its datasets into place, so some may hold its data; they are built again"
            )
        );
    }

    #[test]
    fn a_state_whose_run_left_no_manifest_is_not_up_to_date() {
        let c = Changes {
            unrecorded_run: Some("r1".to_string()),
            ..Changes::default()
        };
        assert!(!c.is_empty() && !c.rebuild_all() && !c.is_full_refresh());
        assert_eq!(
            c.rebuild_reason().as_deref(),
            Some(
                "the manifest of run r1, which built the published datasets, is missing; they are built again so that a manifest describes them"
            )
        );
    }

    /// Regression (review): a state file that was there but could not be parsed was taken
    /// for a first run, silently ("configuration … changed, or first run").
    #[test]
    fn regression_a_state_file_that_cannot_be_parsed_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path(), "p"), Ok(None), "no state: a first run");
        std::fs::create_dir_all(dir.path().join("state")).unwrap();
        let file = dir.path().join("state/p.json");
        std::fs::write(&file, r#"{"version":2,"fingerprint":"#).unwrap();
        let why = load(dir.path(), "p").unwrap_err();
        assert_eq!(
            why,
            format!(
                "{}: EOF while parsing a value at line 1 column 27",
                file.display()
            )
        );
        let c = Changes {
            configuration_changed: true,
            state_unreadable: Some(why.clone()),
            ..Changes::default()
        };
        assert_eq!(
            c.rebuild_reason(),
            Some(format!("the saved state cannot be read: {why}"))
        );
        assert_eq!(
            c.state_warning(),
            Some(format!(
                "the saved state cannot be read: {why}; every input is read and every dataset rebuilt, as on a first run, and the state is written anew"
            ))
        );
    }

    /// The repository's `pipelines/` and `schemas/` copied into a temporary folder.
    fn copied_configuration() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for sub in [
            "pipelines",
            "pipelines/mappings",
            "schemas/sources",
            "schemas/shared",
            "schemas/codes",
        ] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
            for f in std::fs::read_dir(root.join(sub)).unwrap() {
                let f = f.unwrap().path();
                if f.is_file() {
                    std::fs::copy(&f, dir.path().join(sub).join(f.file_name().unwrap())).unwrap();
                }
            }
        }
        dir
    }

    fn configuration_of(pipeline: &Path) -> Configuration {
        let plan = crate::config::load_plan(pipeline, &[]).unwrap();
        configuration(&plan, None).unwrap()
    }

    fn append(file: &Path, text: &str) {
        let mut was = std::fs::read_to_string(file).unwrap();
        was.push_str(text);
        std::fs::write(file, was).unwrap();
    }

    /// The parts are every file the plan reads: its contracts, the code lists they and
    /// the entities name, the entities its mappings and the link stage read, its mappings
    /// (or label mapping) and the pipeline file; no file of the schemas folder it does not
    /// read (the published datasets' own files there document their columns and are read
    /// by no code).
    #[test]
    fn the_configuration_names_every_file_the_plan_reads() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let names = |pipeline: &str| -> Vec<String> {
            configuration_of(&root.join(pipeline))
                .parts
                .into_keys()
                .collect()
        };
        let codes = [
            "admission_method",
            "admission_source",
            "cld_client_type",
            "cld_delivery_mechanism",
            "cld_event_outcome",
            "cld_event_type",
            "cld_primary_support_reason",
            "cld_route_of_access",
            "cld_service_component",
            "cld_service_type",
            "discharge_destination",
            "discharge_method",
            "ecds_acuity",
            "ecds_department_type",
            "ecds_discharge_destination",
            "ecds_discharge_status",
            "patient_classification",
            "person_sex",
        ];
        let mut expected: Vec<String> = [
            "joinedup build",
            "mappings/cld.toml",
            "mappings/ecds.toml",
            "mappings/sus_apc.toml",
            "pipeline file",
        ]
        .map(String::from)
        .to_vec();
        expected.extend(codes.map(|c| format!("schemas/codes/{c}.toml")));
        expected.extend(
            [
                "schemas/shared/ed_attendance.toml",
                "schemas/shared/hospital_spell.toml",
                "schemas/shared/social_care_event.toml",
                "schemas/sources/cld.toml",
                "schemas/sources/ecds.toml",
                "schemas/sources/sus_apc.toml",
            ]
            .map(String::from),
        );
        assert_eq!(names("pipelines/sample.toml"), expected);
        assert_eq!(
            names("pipelines/nhse_publications.toml"),
            [
                "joinedup build",
                "mappings/nhse_labels.toml",
                "pipeline file"
            ]
        );
    }

    /// Regression (review): the fingerprint hashed every file under the schemas folder, so
    /// a draft contract for a second council's feed, which the pipeline does not use, made
    /// the next run rebuild every dataset from every input, saying only "configuration …
    /// changed". Only the files the plan reads count, and a change names them.
    #[test]
    fn regression_a_schema_file_the_plan_does_not_read_changes_nothing() {
        let dir = copied_configuration();
        let pipeline = dir.path().join("pipelines/sample.toml");
        let before = configuration_of(&pipeline);
        let schemas = dir.path().join("schemas");
        let draft = std::fs::read_to_string(schemas.join("sources/cld.toml"))
            .unwrap()
            .replace("name = \"cld\"", "name = \"westbury_t\"");
        std::fs::write(schemas.join("sources/westbury_t.toml"), draft).unwrap();
        std::fs::write(
            schemas.join("codes/westbury_reason.toml"),
            "name = \"westbury_reason\"\ncodes = [{ code = \"A\" }]\n",
        )
        .unwrap();
        assert_eq!(configuration_of(&pipeline), before);

        append(&schemas.join("sources/cld.toml"), "# edited\n");
        let edited = configuration_of(&pipeline);
        assert_ne!(edited.fingerprint, before.fingerprint);
        assert_eq!(
            parts_changed(&before.parts, &edited.parts),
            ["schemas/sources/cld.toml"]
        );
        // A code list named by a contract column and an entity field, a mapping, the
        // pipeline file: each named.
        append(
            &schemas.join("codes/cld_route_of_access.toml"),
            "# edited\n",
        );
        append(
            &dir.path().join("pipelines/mappings/cld.toml"),
            "# edited\n",
        );
        append(&pipeline, "# edited\n");
        assert_eq!(
            parts_changed(&edited.parts, &configuration_of(&pipeline).parts),
            [
                "mappings/cld.toml",
                "pipeline file",
                "schemas/codes/cld_route_of_access.toml"
            ]
        );
    }

    fn parts(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn state_with(parts: BTreeMap<String, String>) -> State {
        let configuration = Configuration {
            fingerprint: sha256_hex(format!("{parts:?}").as_bytes()),
            parts,
        };
        super::current(&configuration, "r", &[], Vec::new())
    }

    #[test]
    fn a_configuration_change_names_the_parts_that_changed() {
        let before = state_with(parts(&[("a.toml", "1"), ("b.toml", "2"), ("key", "3")]));
        let now = state_with(parts(&[("a.toml", "1"), ("b.toml", "9"), ("c.toml", "4")]));
        let c = changes(Some(&before), &now);
        assert!(c.configuration_changed);
        assert_eq!(
            c.configuration_changes,
            ["b.toml", "c.toml (now used)", "key (no longer used)"]
        );
        assert_eq!(
            c.rebuild_reason().as_deref(),
            Some("changed since the last run: b.toml, c.toml (now used), key (no longer used)")
        );
        assert!(changes(Some(&now), &now).configuration_changes.is_empty());
        // Many: the first five named, the rest counted.
        let many = state_with((0..7).map(|i| (format!("{i}.toml"), "x".into())).collect());
        let c = changes(Some(&before), &many);
        assert_eq!(c.configuration_changes.len(), 10);
        assert_eq!(
            c.rebuild_reason().as_deref(),
            Some(
                "changed since the last run: 0.toml (now used), 1.toml (now used), 2.toml (now used), 3.toml (now used), 4.toml (now used) and 5 more"
            )
        );
        // No saved state: a first run.
        let c = changes(None, &now);
        assert_eq!(c.configuration_changes, ["first run"]);
        assert_eq!(c.rebuild_reason().as_deref(), Some("first run"));
    }

    /// A state saved before the parts were recorded still reads; a change is then given
    /// the generic reason.
    #[test]
    fn a_state_without_the_record_of_parts_gives_the_generic_reason() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("state")).unwrap();
        std::fs::write(
            dir.path().join("state/p.json"),
            r#"{"version":2,"fingerprint":"f","inputs":{},"run_id":"r"}"#,
        )
        .unwrap();
        let old = load(dir.path(), "p").unwrap().unwrap();
        assert!(old.configuration.is_empty());
        let c = changes(Some(&old), &state_with(parts(&[("a.toml", "1")])));
        assert!(c.configuration_changed && c.configuration_changes.is_empty());
        assert_eq!(
            c.rebuild_reason().as_deref(),
            Some("configuration, key, pseudonym width or joinedup build changed, or first run")
        );
        // Saved with its parts, read back with them.
        let now = state_with(parts(&[("a.toml", "1")]));
        save(dir.path(), "p", &now).unwrap();
        assert_eq!(load(dir.path(), "p").unwrap().unwrap(), now);
    }
}
