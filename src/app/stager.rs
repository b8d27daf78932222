//! Staging the person-level run's datasets: disclosure control, month files into the run
//! folder, the manifest's entry for each — on a writer thread of its own.
//!
//! Writing a dataset is mostly compression and keeps both cores only partly busy, and
//! much of what comes between writes is one thread's work (resolving social-care events,
//! reading the spells, linking journeys). So datasets are handed to [`Writer`] as soon as
//! their frame exists and the run goes on computing the next while it writes: the
//! social-care events during the pass over the A&E attendances, the spells while journeys
//! link, each measure while the one before it is written. Jobs are written one at a time,
//! in the order they are handed over ([`crate::background`]: the first error stops the
//! writer and reaches the run at its next hand-over); a frame handed over is shared
//! (polars frames are reference-counted), so the writer holds no copy.

use std::path::Path;
use std::thread::Scope;
use std::time::Instant;

use polars::prelude::*;

use crate::background::Background;
use crate::config::Plan;
use crate::error::{Error, Result};
use crate::fault;
use crate::publish::Access;
use crate::publish::disclosure;
use crate::publish::manifest::{OutputInfo, SmallPopulations};
use crate::publish::partition::write_dataset_with;
use crate::publish::pieces::PieceWriter;
use crate::publish::staging::RunDir;

/// The rows of one dataset to write: a whole frame, or pieces already split by month.
pub(crate) enum Rows {
    Frame(DataFrame),
    Pieces(PieceWriter),
}

/// One dataset to stage: the output's index in the plan, its rows, and the seconds its
/// rows took to compute.
pub(crate) struct Job {
    pub index: usize,
    pub rows: Rows,
    pub computed: f64,
}

/// What staging gave: per dataset its index in the plan, its manifest entry and its
/// folder (relative to the data directory); the rows written; warnings for the manifest.
#[derive(Default)]
pub(crate) struct Staged {
    pub outputs: Vec<(usize, OutputInfo, String)>,
    pub rows: u64,
    pub warnings: Vec<String>,
}

/// Stages datasets into a run folder.
pub(crate) struct Stager<'a> {
    pub plan: &'a Plan,
    pub run: &'a RunDir,
    /// The data directory (where the published versions are).
    pub out: &'a Path,
    /// The plan's look-back, or `None` when every month is rebuilt.
    pub lookback_months: Option<u32>,
    /// Applied to each file's rows before they are serialised (pseudonyms put back).
    pub finish: &'a (dyn Fn(DataFrame) -> PolarsResult<DataFrame> + Sync),
    pub staged: Staged,
}

impl Stager<'_> {
    /// Disclosure-controls (published datasets) and writes one dataset into the run folder.
    pub fn stage(&mut self, job: Job) -> Result<()> {
        let began = Instant::now();
        let o = &self.plan.outputs[job.index];
        let access = o.dataset.access();
        let rel = format!("{}/{}", access.folder(), o.dataset.name());
        let (staged_dir, current_dir) = (self.run.staged(&rel), self.out.join(&rel));
        let lookback = self.lookback_months;
        let mut populations_checked = None;
        let (partitions, suppressed) = match (job.rows, access) {
            (Rows::Frame(df), access) => {
                self.staged.rows += df.height() as u64;
                if access == Access::Published {
                    populations_checked = self.small_populations(o, &df)?;
                }
                let (df, suppressed) = match access {
                    Access::Published => disclosure::apply(df, &o.dataset.gate(), o.disclosure)
                        .map_err(|e| {
                            Error::engine(format!("disclosure control on {}", o.dataset.name()), e)
                        })?,
                    Access::Restricted => (df, Default::default()),
                };
                let month = Some(o.dataset.month_column());
                let partitions = write_dataset_with(
                    df,
                    month,
                    &staged_dir,
                    &current_dir,
                    lookback,
                    self.finish,
                )?;
                (partitions, suppressed)
            }
            (Rows::Pieces(writer), Access::Restricted) => {
                self.staged.rows += writer.rows();
                let partitions = writer.finish(&staged_dir, &current_dir, lookback, self.finish)?;
                (partitions, Default::default())
            }
            (Rows::Pieces(_), Access::Published) => {
                return Err(Error::Internal(format!(
                    "{rel} is published, so it is disclosure-controlled whole, not in pieces"
                )));
            }
        };
        for p in partitions.iter().filter(|p| p.closed_changed) {
            self.staged.warnings.push(if p.kept_without_rows {
                format!(
                    "{rel}/{}: a closed month has no rows now (its input removed?); the published file is kept (outside lookback_months); run with --full-refresh to drop it",
                    p.file
                )
            } else {
                format!(
                    "{rel}/{}: late data for a closed month was not published (outside lookback_months); run with --full-refresh to include it",
                    p.file
                )
            });
        }
        // A withheld month has no file: the manifest lists the files published.
        let some_kept = partitions.iter().any(|p| p.closed_changed);
        // A closed month kept as published holds rows of an earlier run, not checked here.
        let small_populations = populations_checked.map(|mut s| {
            s.counts_below_minimum &= !some_kept;
            s
        });
        let partitions: Vec<crate::publish::partition::PartitionInfo> =
            partitions.into_iter().filter(|p| !p.withheld).collect();
        // Closed months kept as published, or withheld: the cells suppressed are those of
        // the files published, not of the rows computed (which counted cells of months
        // never published).
        let suppressed = if some_kept && !suppressed.is_empty() {
            suppressed_in_files(&staged_dir, &partitions, suppressed.keys())?
        } else {
            suppressed
        };
        let written = began.elapsed().as_secs_f64();
        let info = OutputInfo::new(
            o.dataset.name(),
            access.folder(),
            &rel,
            partitions,
            suppressed,
            (access == Access::Published).then(|| o.disclosure.into()),
        )
        .with_small_populations(small_populations)
        .with_timing(job.computed, written);
        let (rss_mb, peak_rss_mb) = crate::telemetry::resident_mb().unwrap_or_default();
        tracing::debug!(
            dataset = o.dataset.name(),
            compute_seconds = job.computed,
            write_seconds = written,
            rss_mb,
            peak_rss_mb,
            "dataset staged"
        );
        fault::point(&format!("publish_staged_{}", rel.replace('/', "_")));
        self.staged.outputs.push((job.index, info, rel));
        Ok(())
    }

    /// What the population rule of `o`'s gate will suppress in `df` (ungated), for the
    /// manifest: `None` when its gate has no such rule or its rule suppresses nothing.
    fn small_populations(
        &self,
        o: &crate::config::OutputPlan,
        df: &DataFrame,
    ) -> Result<Option<SmallPopulations>> {
        let spec = o.dataset.gate();
        if spec.population.is_empty() || o.disclosure == disclosure::Rule::None {
            return Ok(None);
        }
        let minimum = self.plan.daily_min_patients as i64;
        let below = disclosure::population_counts_below(df, &spec, minimum).map_err(|e| {
            Error::engine(
                format!("checking the small populations of {}", o.dataset.name()),
                e,
            )
        })?;
        Ok(Some(SmallPopulations {
            daily_min_patients: minimum,
            counts_below_minimum: below,
        }))
    }
}

/// The cells flagged `<column>_suppressed` in the files of `partitions` under `dir`, per
/// column.
fn suppressed_in_files<'c>(
    dir: &std::path::Path,
    partitions: &[crate::publish::partition::PartitionInfo],
    columns: impl Iterator<Item = &'c String>,
) -> Result<disclosure::Suppressed> {
    let columns: Vec<&String> = columns.collect();
    let mut out: disclosure::Suppressed = columns.iter().map(|c| ((*c).clone(), 0)).collect();
    for p in partitions {
        let path = dir.join(&p.file);
        let counted = (|| -> PolarsResult<Vec<u64>> {
            let df = LazyFrame::scan_parquet(
                PlRefPath::new(path.to_string_lossy().as_ref()),
                ScanArgsParquet::default(),
            )?
            .select(
                columns
                    .iter()
                    .map(|c| col(format!("{c}_suppressed")).sum())
                    .collect::<Vec<_>>(),
            )
            .collect()?;
            df.columns()
                .iter()
                .map(|c| Ok(c.cast(&DataType::UInt64)?.u64()?.get(0).unwrap_or(0)))
                .collect()
        })()
        .map_err(|e| {
            Error::engine(
                format!("counting the suppressed cells of {}", path.display()),
                e,
            )
        })?;
        for (c, n) in columns.iter().zip(counted) {
            *out.entry((*c).clone()).or_default() += n;
        }
    }
    Ok(out)
}

/// Datasets staged on a thread of their own ([`crate::background`]).
pub(crate) type Writer<'scope, 'env> = Background<'scope, Job, Stager<'env>>;

/// Starts the writer: each job staged in turn, freed memory handed back after each.
pub(crate) fn start_writer<'scope, 'env: 'scope>(
    scope: &'scope Scope<'scope, 'env>,
    stager: Stager<'env>,
) -> Writer<'scope, 'env> {
    Background::start(scope, "joinedup-writer", stager, |stager, job| {
        stager.stage(job)?;
        crate::memory::release();
        Ok(())
    })
}
