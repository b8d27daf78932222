//! `joinedup check`: a source's files read against its contract exactly as a run reads
//! them, and what the run would make of them said — rows accepted and quarantined, by
//! reason; values left blank; each read column's blanks in accepted rows; accepted rows
//! without an NHS number; columns the contract does not declare; the file's warnings;
//! its first quarantined rows with their details; and whether the source stays within
//! its thresholds (or would be refused) — with nothing kept.
//!
//! For onboarding a feed: a new council's file is checked against a draft contract,
//! the contract mended and the file checked again, before a run publishes anything.
//! Nothing is written to the data directory (no ingest cache, no state, no run folder);
//! the rows are staged in a private temporary folder (`0700`, removed on return and on a
//! signal), because a workbook's sheet is copied out there with its NHS numbers. NHS
//! numbers are pseudonymised under a random key of the check's own, so the pipeline's
//! secret key is not needed; under a `DEMO-` key the check refuses real NHS numbers as a
//! run would. Details are the quarantine's: they name the column and quote a failing
//! code, date or number, never an NHS number or postcode shape, and a column declared
//! `sensitive` (names, dates of birth) is never decoded. With `--contract` every column
//! is checked, a date of birth declared `date` by mistake included, but a column whose
//! header names personal data is never quoted (`Column::personal`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::Serialize;

use crate::config::{KeySource, Plan, SourceOverride, SourcePlan, load_plan};
use crate::error::{Error, ExitCode, Result};
use crate::ingest::FileIngest;
use crate::ingest::quarantine::shown_path;
use crate::normalise::pseudonym::Pseudonymiser;
use crate::pull::InputFile;

/// What `joinedup check` was asked.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// The pipeline file.
    pub pipeline: PathBuf,
    /// `--source NAME=PATH` overrides: the files to check instead of the declared ones.
    pub overrides: Vec<SourceOverride>,
    /// Sources to check (none: every ingested source).
    pub only: Vec<String>,
    /// The data directory, for sources fetched into its landing zone.
    pub out: PathBuf,
    /// Quarantined rows to list per file.
    pub show: usize,
    /// A contract file to check `files` against alone, instead of the pipeline's
    /// sources ([`crate::config::alone`]).
    pub contract: Option<PathBuf>,
    /// The files (or folders) to check against `contract`.
    pub files: Vec<PathBuf>,
}

/// One quarantined row as listed: where it was and why (its detail as the quarantine
/// has it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListedRow {
    /// 1-based line where the row starts.
    pub line: u64,
    /// 1-based data row number.
    pub row: u64,
    /// Reason codes, `;`-separated.
    pub reasons: String,
    /// One detail per failing check, naming the column.
    pub detail: String,
}

/// One file as read: what a run's manifest would count of it.
#[derive(Debug, Clone, Serialize)]
pub struct FileReading {
    /// The file, shown as a run shows it (NHS-number shapes in its name withheld).
    pub file: String,
    /// Its size.
    pub bytes: u64,
    /// Its SHA-256, as a run's manifest records it.
    pub sha256: String,
    /// The encoding it was decoded with, or `workbook`.
    pub encoding: String,
    /// Data rows read.
    pub rows_in: u64,
    /// Rows accepted.
    pub accepted: u64,
    /// Rows quarantined.
    pub quarantined: u64,
    /// Quarantined rows with each reason (a row with several counts under each).
    pub reasons: BTreeMap<String, u64>,
    /// Values left blank in accepted rows: contract column → reason → count.
    pub blanked: BTreeMap<String, BTreeMap<String, u64>>,
    /// Accepted rows without an NHS number.
    pub without_nhs_number: u64,
    /// Per column the source reads, its blank values in accepted rows (left blank as
    /// invalid, or blank in the file), where there are any: a field a feed leaves empty
    /// (a trust not recording discharge ready dates) measures nothing.
    pub blank_in_accepted: BTreeMap<String, u64>,
    /// Columns the contract does not declare.
    pub extra_columns: Vec<String>,
    /// The file's warnings, NHS-number shapes withheld.
    pub warnings: Vec<String>,
    /// The first quarantined rows (at most `--show`).
    pub first_quarantined: Vec<ListedRow>,
}

impl FileReading {
    fn new(
        reading: &FileIngest,
        blank_in_accepted: BTreeMap<String, u64>,
        first_quarantined: Vec<ListedRow>,
    ) -> Self {
        // As the ingest cache keeps it: the path shown, warnings with NHS numbers withheld.
        let r = crate::ingest::cache_record(reading);
        FileReading {
            file: r.input.path.display().to_string(),
            bytes: r.input.bytes,
            sha256: r.input.sha256,
            encoding: r.encoding,
            rows_in: r.rows_in,
            accepted: r.accepted,
            quarantined: r.quarantined,
            reasons: r.reasons,
            blanked: r.blanked,
            without_nhs_number: r.without_nhs_number,
            blank_in_accepted,
            extra_columns: r.extra_columns,
            warnings: r.warnings,
            first_quarantined,
        }
    }
}

/// What the check made of one file.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum FileCheck {
    /// Read: its counts, as a run's manifest would give them.
    Read(Box<FileReading>),
    /// Refused as a whole, as a run would refuse it.
    Rejected {
        /// The file, shown as a run shows it.
        file: String,
        /// Why (the run's error, naming the file and, where it can, the line and column).
        rejected: String,
    },
}

/// What the check made of one source's files.
#[derive(Debug, Clone, Serialize)]
pub struct SourceCheck {
    /// The source's name.
    pub source: String,
    /// Its contract's name and version.
    pub contract: String,
    /// Per file, in input order.
    pub files: Vec<FileCheck>,
    /// Quarantined rows of the files read, as a share of their rows.
    pub quarantined_fraction: f64,
    /// The source's `max_quarantine_fraction`.
    pub max_quarantine_fraction: f64,
    /// Accepted rows without an NHS number, as a share of the accepted rows.
    pub without_nhs_number_fraction: f64,
    /// The source's `max_without_nhs_number_fraction`.
    pub max_without_nhs_number_fraction: f64,
    /// Whether the source has an NHS number or pseudonym column its persons are keyed
    /// by (without one, no row has an NHS number, and none is counted as lacking one).
    pub keyed: bool,
    /// Why a run would refuse the source though no file is refused: its files hold no
    /// data rows, and it does not allow that (`allow_empty`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
    /// Why no file was checked, for a source with none (a fetched source nothing has
    /// landed for, unless a file is named with `--source`; a folder of no matching file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub none_because: Option<String>,
}

impl SourceCheck {
    /// True when a run reading these files would exit 1 for this source.
    pub fn over_threshold(&self) -> bool {
        self.quarantined_fraction > self.max_quarantine_fraction
            || self.without_nhs_number_fraction > self.max_without_nhs_number_fraction
    }

    /// True when a file, or the source, would be refused as a whole.
    pub fn rejected(&self) -> bool {
        self.refused.is_some()
            || self
                .files
                .iter()
                .any(|f| matches!(f, FileCheck::Rejected { .. }))
    }
}

/// What the check found, source by source.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// The pipeline file, or with `--contract` the contract file.
    pub pipeline: String,
    /// Per source checked, in the pipeline's order.
    pub sources: Vec<SourceCheck>,
}

impl CheckReport {
    /// The exit code a run reading these files would have for them: 3 when a file would
    /// be rejected, 1 when a source would be over a threshold, else 0.
    pub fn exit(&self) -> ExitCode {
        if self.sources.iter().any(SourceCheck::rejected) {
            ExitCode::InputRejected
        } else if self.sources.iter().any(SourceCheck::over_threshold) {
            ExitCode::DataQuality
        } else {
            ExitCode::Ok
        }
    }
}

/// Checks the files of the sources `opts` names (every ingested source when none), or
/// its files against its contract alone.
pub fn check(opts: &CheckOptions) -> Result<CheckReport> {
    let scratch = Scratch::new()?;
    let Some(contract) = &opts.contract else {
        return check_pipeline(opts, &scratch);
    };
    if opts.files.is_empty() {
        return Err(Error::Usage(
            "--contract checks the files named with --file PATH (a file or a folder)".into(),
        ));
    }
    // Loaded once; each --file listed as its path.
    let source =
        crate::config::alone::contract_source(contract, &opts.files[0]).map_err(Error::Config)?;
    let mut files = Vec::new();
    for path in &opts.files {
        for p in crate::pull::list_paths(&source.name, path, &source.pattern)? {
            files.push(crate::pull::fingerprint_input(&source.name, &p)?);
        }
    }
    // No pipeline, so no key of its own: every number is hashed under the check's.
    let pseudo = random_pseudonymiser(crate::normalise::pseudonym::Width::default())?;
    Ok(CheckReport {
        pipeline: shown_path(contract),
        sources: vec![check_source(
            &source, files, &pseudo, &scratch, opts.show, None,
        )?],
    })
}

/// Checks the files of the pipeline's sources `opts` names.
fn check_pipeline(opts: &CheckOptions, scratch: &Scratch) -> Result<CheckReport> {
    let plan = load_plan(&opts.pipeline, &opts.overrides).map_err(Error::Config)?;
    let chosen = chosen_sources(&plan, &opts.only)?;
    let pseudo = random_pseudonymiser(plan.pseudonym_width)?;
    // Under a `DEMO-` key a run refuses real NHS numbers: so does its check.
    let pseudo = if matches!(plan.key, Some(KeySource::Demo(_))) {
        pseudo.for_test_data_only()
    } else {
        pseudo
    };
    // Listed together, as a run lists them: a file two sources read is refused.
    let listed = crate::app::list_inputs(
        &Plan {
            sources: chosen.iter().map(|s| (*s).clone()).collect(),
            ..plan.clone()
        },
        &opts.out,
        true,
    )?;
    let mut sources = Vec::new();
    for (s, (_, files)) in chosen.into_iter().zip(listed) {
        let none_because = files.is_empty().then(|| {
            if s.landed {
                format!(
                    "fetched, and nothing has landed for it in {}: name a file with --source {}=PATH",
                    shown_path(&opts.out),
                    s.name
                )
            } else {
                format!(
                    "no file in {} matches \"{}\"",
                    shown_path(&s.path),
                    s.pattern
                )
            }
        });
        sources.push(check_source(
            s,
            files,
            &pseudo,
            scratch,
            opts.show,
            none_because,
        )?);
    }
    Ok(CheckReport {
        pipeline: shown_path(&plan.file),
        sources,
    })
}

/// Reads each of `files` as `s`'s, one per core, into its own folder of `scratch`
/// (removed once read), and sums the source's shares.
fn check_source(
    s: &SourcePlan,
    files: Vec<InputFile>,
    pseudo: &Pseudonymiser,
    scratch: &Scratch,
    show: usize,
    none_because: Option<String>,
) -> Result<SourceCheck> {
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(files[i].bytes));
    // The columns the source reads: the others are not stored, so blank in every row.
    let read: BTreeSet<&str> = s
        .contract
        .columns
        .iter()
        .zip(s.columns_read())
        .filter(|(_, read)| *read)
        .map(|(c, _)| c.name.as_str())
        .collect();
    let checked = crate::parallel::map_in_order(
        &files,
        &order,
        crate::parallel::cores(),
        |input| -> Result<FileCheck> {
            let dir = scratch.folder()?;
            let checked = match crate::ingest::ingest_uncached(s, input, pseudo, &dir) {
                Ok(report) => Ok(FileCheck::Read(Box::new(FileReading::new(
                    &report,
                    blank_counts(&report.staged, &read)?,
                    first_quarantined(&report.quarantine, show)?,
                )))),
                Err(e @ Error::InputRejected { .. }) => Ok(FileCheck::Rejected {
                    file: shown_path(&input.path),
                    rejected: crate::ingest::quarantine::mask_nhs_numbers(&e.to_string())
                        .into_owned(),
                }),
                Err(e) => Err(e),
            };
            let _ = std::fs::remove_dir_all(&dir);
            checked
        },
    );
    let files = checked.into_iter().collect::<Result<Vec<_>>>()?;
    Ok(summarise(s, files, none_because))
}

/// The sources named in `only`, in the pipeline's order (every ingested source when
/// empty); a name that is not an ingested source is a command-line error listing them.
fn chosen_sources<'a>(plan: &'a Plan, only: &[String]) -> Result<Vec<&'a SourcePlan>> {
    let names: Vec<&str> = plan.sources.iter().map(|s| s.name.as_str()).collect();
    if let Some(unknown) = only.iter().find(|n| !names.contains(&n.as_str())) {
        let valid = if names.is_empty() {
            "the pipeline reads no source against a contract".to_string()
        } else {
            crate::config::alternatives(names.iter().copied())
        };
        return Err(Error::Usage(format!(
            "\"{unknown}\" is not a source the pipeline reads against a contract; {valid}"
        )));
    }
    Ok(plan
        .sources
        .iter()
        .filter(|s| only.is_empty() || only.contains(&s.name))
        .collect())
}

/// A pseudonymiser of a random key, used for the check only: nothing it makes is kept.
fn random_pseudonymiser(width: crate::normalise::pseudonym::Width) -> Result<Pseudonymiser> {
    let key: Vec<u8> = [uuid::Uuid::new_v4(), uuid::Uuid::new_v4()]
        .iter()
        .flat_map(|u| *u.as_bytes())
        .collect();
    Pseudonymiser::new(&key, width).map_err(Error::Internal)
}

/// Per column of `read` in a file's staged (accepted) rows, its nulls, where there are
/// any.
fn blank_counts(staged: &[PathBuf], read: &BTreeSet<&str>) -> Result<BTreeMap<String, u64>> {
    let mut counts = BTreeMap::new();
    if staged.is_empty() {
        return Ok(counts);
    }
    let engine = |e| Error::engine("counting blank values", e);
    let nulls = crate::normalise::scan_stacked(staged)
        .and_then(|lf| lf.select([all().as_expr().null_count()]).collect())
        .map_err(engine)?;
    for c in nulls.columns() {
        let n = c.cast(&DataType::UInt64).map_err(engine)?;
        let n = n.u64().map_err(engine)?.get(0).unwrap_or_default();
        if n > 0 && read.contains(c.name().as_str()) {
            counts.insert(c.name().to_string(), n);
        }
    }
    Ok(counts)
}

/// The first `n` rows of a file's quarantine.
fn first_quarantined(path: &Path, n: usize) -> Result<Vec<ListedRow>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let engine = |e| Error::engine("reading the quarantined rows", e);
    let df = LazyFrame::scan_parquet(
        PlRefPath::new(path.to_string_lossy().as_ref()),
        ScanArgsParquet::default(),
    )
    .and_then(|lf| {
        lf.select([col("line"), col("row"), col("reasons"), col("detail")])
            .limit(n as IdxSize)
            .collect()
    })
    .map_err(engine)?;
    let (line, row) = (
        df.column("line").and_then(|c| c.u64().cloned()),
        df.column("row").and_then(|c| c.u64().cloned()),
    );
    let (reasons, detail) = (
        df.column("reasons").and_then(|c| c.str().cloned()),
        df.column("detail").and_then(|c| c.str().cloned()),
    );
    let (line, row, reasons, detail) = (
        line.map_err(engine)?,
        row.map_err(engine)?,
        reasons.map_err(engine)?,
        detail.map_err(engine)?,
    );
    Ok((0..df.height())
        .map(|i| ListedRow {
            line: line.get(i).unwrap_or_default(),
            row: row.get(i).unwrap_or_default(),
            reasons: reasons.get(i).unwrap_or_default().to_string(),
            detail: detail.get(i).unwrap_or_default().to_string(),
        })
        .collect())
}

/// The source's shares, from the files read (a rejected file has none).
fn summarise(s: &SourcePlan, files: Vec<FileCheck>, none_because: Option<String>) -> SourceCheck {
    let (mut rows_in, mut accepted, mut quarantined, mut without) = (0u64, 0u64, 0u64, 0u64);
    for f in &files {
        if let FileCheck::Read(reading) = f {
            rows_in += reading.rows_in;
            accepted += reading.accepted;
            quarantined += reading.quarantined;
            without += reading.without_nhs_number;
        }
    }
    let share = |part: u64, whole: u64| {
        if whole == 0 {
            0.0
        } else {
            part as f64 / whole as f64
        }
    };
    let read_all = files.iter().all(|f| matches!(f, FileCheck::Read(_)));
    let refused = (!files.is_empty() && read_all && rows_in == 0 && !s.allow_empty).then(|| {
        format!(
            "{}: a run refuses it (set allow_empty = true under [sources.{}] if it may be empty)",
            crate::app::no_data_rows(&s.name, files.len()),
            s.name
        )
    });
    SourceCheck {
        refused,
        source: s.name.clone(),
        contract: format!("{} v{}", s.contract.name, s.contract.version),
        files,
        quarantined_fraction: share(quarantined, rows_in),
        max_quarantine_fraction: s.max_quarantine_fraction,
        without_nhs_number_fraction: share(without, accepted),
        max_without_nhs_number_fraction: s.max_without_nhs_number_fraction,
        keyed: s.person_column().is_some(),
        none_because,
    }
}

/// The check's private temporary folder: `0700`, removed when dropped and if a signal
/// stops the process while it exists.
struct Scratch {
    root: PathBuf,
    _guard: crate::interrupt::StagingGuard,
}

impl Scratch {
    fn new() -> Result<Self> {
        let root =
            std::env::temp_dir().join(format!("joinedup-check-{}", uuid::Uuid::new_v4().simple()));
        let _creating = crate::interrupt::creating();
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(&root)
            .map_err(|e| Error::io("creating", &root, e))?;
        let guard = crate::interrupt::StagingGuard::new(root.clone());
        Ok(Scratch {
            root,
            _guard: guard,
        })
    }

    /// A new empty folder inside, for one file's reading.
    fn folder(&self) -> Result<PathBuf> {
        let dir = self.root.join(uuid::Uuid::new_v4().simple().to_string());
        let _creating = crate::interrupt::creating();
        std::fs::create_dir(&dir).map_err(|e| Error::io("creating", &dir, e))?;
        Ok(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
