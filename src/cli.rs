//! The command line (clap derive). Doc comments are the help text.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::SourceOverride;

/// The sample pipeline, run when no pipeline is named.
pub const DEFAULT_PIPELINE: &str = "pipelines/sample.toml";

/// joinedup: NHS and council activity extracts in, joined-up and pseudonymised Parquet out.
///
/// Reads the sources a pipeline declares, checks every row against its source contract
/// (quarantining bad rows with reasons), pseudonymises NHS numbers, links hospital
/// spells, A&E attendances and social-care events at person level, and writes
/// restricted person-level and disclosure-controlled published datasets.
#[derive(Debug, Parser)]
#[command(name = "joinedup", version, propagate_version = true, after_help = EXAMPLES)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,

    /// Log format on stderr: `text` for people, `json` (one event per line) for schedulers.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "JOINEDUP_LOG_FORMAT")]
    pub log_format: LogFormat,

    /// Only print warnings and errors (no run summary; a dry run still prints what it
    /// would do, its only output).
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

// Example lines stay under 80 characters, so a terminal never wraps one mid-command.
const EXAMPLES: &str = concat!(
    "Examples:
  joinedup run                    # the sample pipeline, into ./out
  joinedup run pipelines/icb.toml --out /data/ju
  joinedup status pipelines/icb.toml --out /data/ju  # runs, inputs pending
  joinedup validate pipelines/icb.toml   # config and contracts; reads no data
  joinedup check pipelines/icb.toml --source cld=new.csv  # a new extract
  joinedup pull pipelines/mesh_inbox.toml --out /data/ju   # land a MESH mailbox
  joinedup run pipelines/nhse_publications.toml --out /data/ju
  joinedup report --out /data/ju  # the HTML report from the published datasets

",
    exit_codes!()
);

/// The exit codes of `run` (and of the whole tool), as its help and the top-level help end.
macro_rules! exit_codes {
    () => {
        "Exit codes: 0 ok, 1 ok but a source quarantined more than its threshold
(or too many of its rows have no NHS number),
2 configuration or command-line error (or a folder it may not write),
3 an input file was rejected,
4 a source is unavailable, 5 internal error,
6 another run holds the data directory,
130/143/129 stopped by SIGINT/SIGTERM/SIGHUP."
    };
}
use exit_codes;

const RUN_EXAMPLES: &str = concat!(
    "Examples:
  joinedup run                              # the sample pipeline, into ./out
  joinedup run pipelines/icb.toml --out /data/ju
  joinedup run --source apc=/data/sus/2026-11.csv   # one source from elsewhere
  joinedup run pipelines/icb.toml --dry-run         # what a run would do now
  joinedup run pipelines/icb.toml --full-refresh    # rebuild every month

Under a scheduler: --log-format json, and stdout (the summary) apart from it;
--keep-runs 400 keeps the last 400 runs' folders (all by default).
The key: [pseudonymisation] key_env or key_file in the pipeline.

",
    exit_codes!()
);

const VALIDATE_EXAMPLES: &str = concat!(
    "Examples:
  joinedup validate                         # the sample pipeline
  joinedup validate pipelines/icb.toml --source cld=/drop/cld_902.csv

Every problem is reported at once, with its file, key path and valid values.
What a run would also need and this machine lacks (the key, environment
variables and secret files fetched sources name, local sources' files) is
warned about, with exit 0: configuration may be checked where secrets are not.

",
    "Exit codes: 0 ok (what this machine lacks is a warning), 2 configuration or
command-line error, 4 a --source path does not exist, 5 internal error."
);

const PULL_EXAMPLES: &str = concat!(
    "Examples:
  joinedup pull pipelines/mesh_inbox.toml --out /data/ju
  # the local MESH sandbox (mailbox X26ABC1 of its defaults):
  JOINEDUP_MESH_URL=http://127.0.0.1:8700 JOINEDUP_MESH_MAILBOX=X26ABC1 \\
  JOINEDUP_MESH_PASSWORD=password JOINEDUP_MESH_SHARED_KEY=TestKey \\
      joinedup pull pipelines/mesh_inbox.toml --out /tmp/ju

",
    "Exit codes: 0 ok, 2 configuration or command-line error (or a folder it may
not write), 4 a source or an item failed to pull (the rest landed), 5 internal
error, 6 another run holds the data directory, 130/143/129 stopped by a signal."
);

const EXPLAIN_EXAMPLES: &str = concat!(
    "Examples:
  joinedup explain pipelines/icb.toml --out /data/ju

It does not pull: a fetched source counts what has landed.

",
    "Exit codes: 0 ok, 2 configuration or command-line error (or a run now would
replace another pipeline's datasets), 4 a source is unavailable, 5 internal
error, 6 a run holds the data directory now."
);

const CHECK_EXAMPLES: &str = concat!(
    "Examples:
  joinedup check pipelines/icb.toml --source cld=/drop/cld_new_council.csv
  joinedup check pipelines/icb.toml --only apc --show 20
  joinedup check pipelines/icb.toml --json > check.json
  joinedup check --contract schemas/sources/cld_904.toml --file new.csv

Reads files against their contracts exactly as a run reads them and says what a
run would make of them: rows accepted and quarantined by reason, values left
blank, the share of accepted rows blank in each column read, rows without an NHS
number, undeclared columns, the first quarantined rows (row, line, reasons, and
the quarantine's details: the column, and a failing code, date or number, never
an NHS number or postcode; columns declared sensitive are never read), and each
source's shares against its thresholds. Writes nothing to the data directory,
and needs no pseudonymisation key: NHS numbers are hashed under a random key of
its own and the rows discarded. Checks the sources named with --only, else those
given a file with --source, else every source the pipeline reads against a
contract. With --contract it checks the --file files against that contract
alone: every column of it, with the default thresholds, for a contract being
written, before it has a mapping.

",
    "Exit codes: 0 a run would accept the files, 1 a source would be over a
threshold, 2 configuration or command-line error, 3 a file (or a source of no
rows) would be refused as a whole, 4 a source is unavailable, 5 internal error."
);

const DRAFT_EXAMPLES: &str = concat!(
    "Examples:
  joinedup draft /drop/cld_904_2026Q3.csv > schemas/sources/cld_904.toml
  joinedup draft extract.csv --name ncdr_apc --schemas /etc/joinedup/schemas
  joinedup draft /drop/discharges_oct.xlsx --sheet Data --name council_discharges

Reads the file's header and first rows and prints a first contract for a person
to review: encoding and delimiter (or a workbook's sheet), blank values, and each column's type (names,
dates of birth, addresses and postcodes declared sensitive by their headers and
never read; NHS numbers; dates with their formats; codes of an existing code
list; integers; strings with a pattern), with required where no value was blank.
No value of the file is printed. Then map it and try it with joinedup check.

",
    "Exit codes: 0 drafted, 2 command-line error (the file cannot be read, a --sheet
the workbook does not have, or the schemas' code lists do not load), 3 the file
cannot be drafted from (UTF-16, a workbook that cannot be read, no header row)."
);

const STATUS_EXAMPLES: &str = concat!(
    "Examples:
  joinedup status pipelines/icb.toml --out /data/ju  # its runs, and pending
  joinedup status --out /data/ju    # every pipeline's runs, each named

What would stop a run now (a source missing, a run in progress) is printed
under \"pending\", not returned as the exit code.

",
    "Exit codes: 0 ok, 2 command-line error (a pipeline file or data directory
that is not there), 5 internal error."
);

const REPORT_EXAMPLES: &str = concat!(
    "Examples:
  joinedup report --out /data/ju            # writes /data/ju/report/index.html
  joinedup report --out /data/ju --icb QWO  # this ICB beside England

It takes the data directory's lock, as a run does, so it never reads datasets
a run is switching into place: while a run holds it, it exits 6 at once and
writes nothing (run it again when the run has finished).

",
    "Exit codes: 0 ok, 2 command-line error (an --icb not in the sitrep data, or a
folder it may not write), 3 a run manifest or a published file cannot be read,
4 nothing published in the data directory yet, 5 internal error, 6 a run holds
the data directory's lock (nothing written)."
);

const SYNTH_EXAMPLES: &str = concat!(
    "Examples:
  joinedup synth --people 100000 --years 2 --out /tmp/icb
  joinedup run /tmp/icb/pipeline.toml --out /tmp/icb-out

",
    "Exit codes: 0 ok, 2 command-line error (or a folder it may not write),
5 internal error."
);

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a pipeline end to end: ingest, normalise, link, measure, publish.
    #[command(after_help = RUN_EXAMPLES)]
    Run(RunArgs),
    /// Check a pipeline, its contracts, code lists and mappings; read no data.
    #[command(after_help = VALIDATE_EXAMPLES)]
    Validate(ValidateArgs),
    /// Fetch the pipeline's HTTP, MESH and drop-folder sources into DIR/landing/.
    #[command(after_help = PULL_EXAMPLES)]
    Pull(PullArgs),
    /// Show the resolved plan and what a run would do now; changes nothing.
    #[command(after_help = EXPLAIN_EXAMPLES)]
    Explain(InspectArgs),
    /// Show the last runs of a data directory and what is pending.
    #[command(after_help = STATUS_EXAMPLES)]
    Status(StatusArgs),
    /// Read files against their contracts as a run would and say what it would make of them.
    #[command(after_help = CHECK_EXAMPLES)]
    Check(CheckArgs),
    /// Draft a source contract from a CSV file of a new feed, for review.
    #[command(after_help = DRAFT_EXAMPLES)]
    Draft(DraftArgs),
    /// Write DIR/report/index.html from the published datasets and the latest run manifest.
    #[command(after_help = REPORT_EXAMPLES)]
    Report(ReportArgs),
    /// Write a synthetic ICB (APC, ECDS, CLD extracts, a pipeline and truth.json).
    #[command(after_help = SYNTH_EXAMPLES)]
    Synth(SynthArgs),
    /// Benchmark lower bound: every CSV under INPUT to Parquet with polars, unchecked.
    #[command(hide = true)]
    Baseline(BaselineArgs),
}

/// `joinedup report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Data directory a run wrote (reads only published/ and runs/).
    #[arg(long, default_value = "out", env = "JOINEDUP_OUT")]
    pub out: PathBuf,

    /// ODS code of this ICB in NHS England's sitrep data (default: the pipeline's
    /// icb_code); one not in that data is refused, listing those that are.
    #[arg(long, value_name = "CODE")]
    pub icb: Option<String>,
}

/// `joinedup baseline`.
#[derive(Debug, clap::Args)]
pub struct BaselineArgs {
    /// Folder of CSV files (with `--part outputs`: the data directory of a run).
    pub input: PathBuf,
    /// Where the Parquet files go (not used by `--part read`).
    #[arg(long, required_unless_present = "part")]
    pub out: Option<PathBuf>,
    /// One part of the floor instead of the lower bound: `read` parses every CSV and
    /// writes nothing (prints the rows); `outputs` writes the files a run wrote again
    /// from memory, timing only the writing (prints JSON).
    #[arg(long, value_enum)]
    pub part: Option<BaselinePart>,
}

/// A part of the benchmark's floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BaselinePart {
    /// Read every CSV, write nothing.
    Read,
    /// Write a run's outputs again from memory.
    Outputs,
}

/// `joinedup synth`.
#[derive(Debug, clap::Args)]
pub struct SynthArgs {
    /// People in the population (at most 909,090, the valid numbers of the 999 test range).
    #[arg(long, default_value_t = 10_000)]
    pub people: usize,
    /// Years of activity (at most 50): from April 2024, or, for more than two, the years to
    /// March 2026.
    #[arg(long, default_value_t = 1)]
    pub years: u32,
    /// Random seed: the same seed writes the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Share of background rows given one deliberate defect (0 to 1).
    #[arg(long, default_value_t = 0.01, allow_negative_numbers = true)]
    pub defect_rate: f64,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// The joinedup checkout whose schemas/ and pipelines/mappings/ the pipeline uses.
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// Write each NHS number pseudonymised upstream under this scheme (64 hex digits), as
    /// NCDR and DSCRO extracts arrive; the pipeline reads them with a copy of the
    /// schemas (OUT/schemas) whose contracts declare them type = "pseudonym".
    #[arg(long, value_name = "SCHEME")]
    pub pseudonymise: Option<String>,
}

/// `joinedup pull`.
#[derive(Debug, clap::Args)]
pub struct PullArgs {
    /// Pipeline file (no default: the sample pipeline fetches nothing).
    pub pipeline: PathBuf,

    /// Data directory; files land in DIR/landing/<source>/.
    #[arg(long, default_value = "out", env = "JOINEDUP_OUT")]
    pub out: PathBuf,
}

/// `joinedup run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Pipeline file.
    #[arg(default_value = DEFAULT_PIPELINE)]
    pub pipeline: PathBuf,

    /// Read a source from another file or folder: NAME=PATH (repeatable).
    #[arg(long = "source", value_name = "NAME=PATH")]
    pub sources: Vec<SourceOverride>,

    /// Data directory for everything the run writes.
    #[arg(long, default_value = "out", env = "JOINEDUP_OUT")]
    pub out: PathBuf,

    /// Rebuild every dataset from every input, ignoring what earlier runs did.
    #[arg(long)]
    pub full_refresh: bool,

    /// Say what a run would do now (new and removed inputs) without doing it.
    #[arg(long)]
    pub dry_run: bool,

    /// Keep this pipeline's newest N run folders (runs/<id>/) and the newest that wrote
    /// datasets; remove its older ones after the run. Default: keep all.
    #[arg(long, value_name = "N", env = "JOINEDUP_KEEP_RUNS", value_parser = clap::value_parser!(u64).range(1..))]
    pub keep_runs: Option<u64>,
}

/// `joinedup explain` and `joinedup status`.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// Pipeline file.
    #[arg(default_value = DEFAULT_PIPELINE)]
    pub pipeline: PathBuf,

    /// Read a source from another file or folder: NAME=PATH (repeatable).
    #[arg(long = "source", value_name = "NAME=PATH")]
    pub sources: Vec<SourceOverride>,

    /// Data directory.
    #[arg(long, default_value = "out", env = "JOINEDUP_OUT")]
    pub out: PathBuf,
}

/// `joinedup check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Pipeline file.
    #[arg(default_value = DEFAULT_PIPELINE)]
    pub pipeline: PathBuf,

    /// Check this file or folder as the named source's: NAME=PATH (repeatable).
    #[arg(long = "source", value_name = "NAME=PATH")]
    pub sources: Vec<SourceOverride>,

    /// Check only this source (repeatable; default: those given --source, else all).
    #[arg(long, value_name = "NAME")]
    pub only: Vec<String>,

    /// Quarantined rows to list per file.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub show: usize,

    /// Print the report as JSON (one object) instead of text.
    #[arg(long)]
    pub json: bool,

    /// Check the --file files against this contract alone (schemas/sources/NAME.toml),
    /// every column of it, before it has a mapping or a pipeline.
    #[arg(long, value_name = "CONTRACT", requires = "files", conflicts_with_all = ["sources", "only"])]
    pub contract: Option<PathBuf>,

    /// A file or folder to check against --contract (repeatable).
    #[arg(long = "file", value_name = "PATH", requires = "contract")]
    pub files: Vec<PathBuf>,

    /// Data directory, for sources fetched into its landing zone (nothing is written).
    #[arg(long, default_value = "out", env = "JOINEDUP_OUT")]
    pub out: PathBuf,
}

/// `joinedup draft`.
#[derive(Debug, clap::Args)]
pub struct DraftArgs {
    /// A CSV file or an Excel workbook (.xlsx, .xlsm, .xls, .ods) of the feed.
    pub file: PathBuf,

    /// The workbook's sheet to draft from (default: its first visible sheet).
    #[arg(long)]
    pub sheet: Option<String>,

    /// The contract's name (default: the file's name in lower case, without the parts
    /// with digits that end it, such as a period).
    #[arg(long)]
    pub name: Option<String>,

    /// The schemas folder whose code lists the columns are matched against.
    #[arg(long, default_value = "schemas")]
    pub schemas: PathBuf,
}

/// `joinedup status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Pipeline file: only its runs are listed (by the pipeline name their manifests
    /// record), and what a run of it would do now. Without one, every pipeline's runs are
    /// listed, each with its pipeline.
    pub pipeline: Option<PathBuf>,

    /// Read a source from another file or folder: NAME=PATH (repeatable; needs the
    /// pipeline whose source it is).
    #[arg(long = "source", value_name = "NAME=PATH", requires = "pipeline")]
    pub sources: Vec<SourceOverride>,

    /// Data directory.
    #[arg(long, default_value = "out", env = "JOINEDUP_OUT")]
    pub out: PathBuf,
}

/// `joinedup validate`.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Pipeline file.
    #[arg(default_value = DEFAULT_PIPELINE)]
    pub pipeline: PathBuf,

    /// Check these source overrides too: NAME=PATH (repeatable).
    #[arg(long = "source", value_name = "NAME=PATH")]
    pub sources: Vec<SourceOverride>,
}

/// Log formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The environment variables the command line reads (`env = ...` on any argument of any
/// command), so the binary can treat one set to nothing as unset: a systemd
/// `Environment=JOINEDUP_OUT=` or a templated crontab line leaves them empty, and clap
/// would take the empty text as the flag's value ("a value is required for '--out'").
pub fn env_vars() -> Vec<String> {
    fn walk(cmd: &clap::Command, into: &mut Vec<String>) {
        for a in cmd.get_arguments() {
            if let Some(name) = a.get_env().and_then(|n| n.to_str())
                && !into.iter().any(|n| n == name)
            {
                into.push(name.to_string());
            }
        }
        for sub in cmd.get_subcommands() {
            walk(sub, into);
        }
    }
    let mut names = Vec::new();
    walk(&<Cli as clap::CommandFactory>::command(), &mut names);
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_vars_are_those_the_arguments_read() {
        assert_eq!(
            env_vars(),
            ["JOINEDUP_LOG_FORMAT", "JOINEDUP_OUT", "JOINEDUP_KEEP_RUNS"]
        );
    }
}
