//! The `joinedup` binary: parse the command line, run, map errors to exit codes.

use std::process::ExitCode;

use clap::Parser;
use joinedup::cli::{Cli, Command, LogFormat};
use joinedup::{app, error, summary, telemetry};

/// mimalloc: the data stages allocate and free many small buffers; glibc's allocator
/// spent about a sixth of a run in malloc/free.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Transparent huge pages cost more than they save here: mimalloc asks for them, and
    // the kernel then zeroes 2 MiB on the first touch of each, again after every purge.
    // Measured at 9.1 M rows: 28 s -> 23 s wall, 15 s -> 6 s system time, peak memory
    // unchanged. A failure (an old kernel) only means huge pages stay as they were.
    let _ = rustix::thread::disable_transparent_huge_pages(true);
    // Between steps, give memory freed by the finished step back to the system
    // (mimalloc otherwise keeps it for reuse by the thread that freed it).
    joinedup::memory::set_release(release_freed_memory);
    shorten_purge_delay();
    unset_empty_env_vars();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap's message repeats the value it refused, and a value may be a path
            // naming a file after its patient.
            let rendered = e.render().to_string();
            let masked = joinedup::ingest::quarantine::mask_nhs_numbers(&rendered);
            if e.use_stderr() && json_logs_asked() {
                // Under a scheduler every line of the log must parse, this one too.
                telemetry::init(LogFormat::Json, true);
                tracing::error!(exit_code = e.exit_code() as u8, "{}", rendered.trim_end());
            } else if e.use_stderr() {
                let keep = joinedup::escape::Keep {
                    layout: true,
                    colours: false,
                };
                eprint!("{}", joinedup::escape::escape(&masked, keep));
            } else {
                write_out(format_args!("{masked}"));
            }
            return ExitCode::from(e.exit_code() as u8);
        }
    };
    // `status`, `explain` and `check` only read: their answer is stdout, and a dry run's stage
    // timings on stderr are noise (warnings still show).
    let read_only = matches!(
        cli.command,
        Command::Status(_) | Command::Explain(_) | Command::Check(_) | Command::Draft(_)
    );
    telemetry::init(cli.log_format, cli.quiet || read_only);
    // A check of large files reads for a while: its bars, when a person is watching.
    if matches!(cli.command, Command::Check(_)) {
        telemetry::show_progress(cli.log_format, cli.quiet);
    }
    if let Err(e) = joinedup::interrupt::install() {
        tracing::warn!(
            "cannot handle SIGINT/SIGTERM ({e}): an interrupted run leaves its staging folder to the next run"
        );
    }
    let code = match run(&cli) {
        Ok(code) => code,
        Err(e) => {
            // A failure caused by a signal's clean-up (a folder removed under a thread
            // writing it) is not the run's: the signal thread exits with its own code.
            if joinedup::interrupt::interrupted() {
                joinedup::interrupt::wait_for_exit();
            }
            let code = e.exit_code();
            let finished = finished_event(&cli, code);
            if cli.log_format == LogFormat::Json {
                // In the failed run's span, so the event carries its run id.
                let span = joinedup::app::last_run_id().map(|id| joinedup::app::run_span(&id));
                let _entered = span.as_ref().map(|s| s.enter());
                tracing::error!(exit_code = code as u8, "{}", app::error_chain(&e));
            } else {
                // Messages name files, and a file may be named after its patient.
                let message = app::error_chain(&e);
                let masked = joinedup::ingest::quarantine::mask_nhs_numbers(&message);
                let keep = joinedup::escape::Keep {
                    layout: true,
                    colours: false,
                };
                eprintln!("error: {}", joinedup::escape::escape(&masked, keep));
            }
            finished();
            code
        }
    };
    ExitCode::from(code as u8)
}

/// For a run that failed: logs its last event, `run finished`, after the error (status
/// `failed`, the exit code, and its manifest when it left one), as a run that succeeds
/// does. Other commands, and dry runs, have none.
fn finished_event(cli: &Cli, code: error::ExitCode) -> impl FnOnce() {
    let run = match &cli.command {
        Command::Run(args) if !args.dry_run => app::last_run_id().map(|id| (id, args.out.clone())),
        _ => None,
    };
    move || {
        let Some((id, out)) = run else { return };
        let manifest = out.join("runs").join(&id).join("manifest.json");
        run_finished(
            &id,
            code,
            "failed",
            Some(manifest.as_path()).filter(|m| m.is_file()),
        );
    }
}

/// Logs a run's last event, `run finished`, in its span: exit code, status, manifest.
fn run_finished(id: &str, code: error::ExitCode, status: &str, manifest: Option<&std::path::Path>) {
    app::log_run_finished(id, code as u8, status, manifest);
}

/// `println!` through [`write_out`].
macro_rules! say {
    ($($t:tt)*) => { write_out(format_args!("{}\n", format_args!($($t)*))) };
}

/// Writes a command's answer to standard output, NHS numbers withheld as on stderr (a
/// path such as `--out` may name a folder after its patient). A reader that went away
/// (`| head`, a closed pipe) is not the command's failure: the rest is dropped and the
/// exit code stays the command's; any other failure to write (a full disk) is logged.
fn write_out(text: std::fmt::Arguments) {
    use std::io::Write;
    let text = text.to_string();
    let text = joinedup::ingest::quarantine::mask_nhs_numbers(&text);
    // Control characters but the answer's own line breaks and tabs are shown as escapes:
    // a value (a name) cannot drive the terminal.
    let text = joinedup::escape::escape(
        &text,
        joinedup::escape::Keep {
            layout: true,
            colours: false,
        },
    );
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        tracing::warn!("cannot write to standard output: {e}");
    }
}

/// Whether the command line (as given, though clap refused it) or the environment asks
/// for JSON logs.
fn json_logs_asked() -> bool {
    let args: Vec<String> = std::env::args().collect();
    let on_line = args.iter().enumerate().find_map(|(i, a)| {
        a.strip_prefix("--log-format=")
            .map(str::to_string)
            .or_else(|| (a == "--log-format").then(|| args.get(i + 1).cloned().unwrap_or_default()))
    });
    on_line
        .or_else(|| std::env::var("JOINEDUP_LOG_FORMAT").ok())
        .is_some_and(|f| f == "json")
}

/// Removes the command line's environment variables that are set to nothing
/// ([`joinedup::cli::env_vars`]), so they count as unset: the flag's default applies.
#[allow(unsafe_code)]
fn unset_empty_env_vars() {
    for name in joinedup::cli::env_vars() {
        if std::env::var_os(&name).is_some_and(|v| v.is_empty()) {
            // SAFETY: called first thing in `main`, before this process starts any
            // thread, so nothing reads the environment while it changes.
            unsafe { std::env::remove_var(&name) }
        }
    }
}

/// mimalloc's `mi_collect(force)`: frees the calling thread's unused pages and purges
/// memory freed to the arenas by every thread.
#[allow(unsafe_code)]
fn release_freed_memory() {
    // SAFETY: mi_collect takes no pointers and may be called at any time from any thread.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

/// mimalloc v3's `mi_option_purge_delay` (libmimalloc-sys does not name it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
/// v3's default purge delay, to recognise the option before changing it.
const MI_DEFAULT_PURGE_DELAY_MS: std::ffi::c_long = 1000;
/// The purge delay joinedup runs with.
const PURGE_DELAY_MS: std::ffi::c_long = 100;

/// Memory freed inside a step (the streaming engine's threads, which
/// [`joinedup::memory::release`] cannot reach) is held for mimalloc's purge delay, 1 s by
/// default, long enough for a step's transients to pile up: at 10 M rows 100 ms lowered
/// peak memory from 1.01-1.04 GB to 0.90-0.94 GB for ~4 % more time (0 ms: 0.86 GB, but
/// +20 % time). `MIMALLOC_PURGE_DELAY` in the environment still wins; an allocator whose
/// option does not read as v3's default is left alone.
#[allow(unsafe_code)]
fn shorten_purge_delay() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: mi_option_get/mi_option_set take and return plain integers and may be
    // called at any time.
    unsafe {
        if libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) == MI_DEFAULT_PURGE_DELAY_MS {
            libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS);
        }
    }
}

fn run(cli: &Cli) -> Result<error::ExitCode, error::Error> {
    match &cli.command {
        Command::Run(args) => {
            let report = app::run(&app::RunOptions {
                pipeline: args.pipeline.clone(),
                overrides: args.sources.clone(),
                out: args.out.clone(),
                full_refresh: args.full_refresh,
                dry_run: args.dry_run,
                keep_runs: args.keep_runs.map(|n| n as usize),
            })?;
            if !args.dry_run
                && let Some(id) = app::last_run_id()
            {
                // The run's last event, so a log read alone says how it ended.
                run_finished(
                    &id,
                    report.exit,
                    &report.manifest.status,
                    report.manifest_path.as_deref(),
                );
            }
            if !cli.quiet || args.dry_run {
                say!(
                    "{}",
                    summary::render(&report.manifest, report.manifest_path.as_deref())
                );
                if let Some(path) = &report.report {
                    say!("report: {}", path.display());
                }
                for n in &report.dry_run_notes {
                    say!("\nnote: {n}");
                }
            }
            Ok(report.exit)
        }
        Command::Report(args) => {
            let path = joinedup::report::write_locked(
                &args.out,
                &joinedup::report::Options {
                    icb: args.icb.clone(),
                },
            )?;
            if !cli.quiet {
                say!("report: {}", path.display());
            }
            Ok(error::ExitCode::Ok)
        }
        Command::Synth(args) => {
            let started = std::time::Instant::now();
            let truth = joinedup::synth::generate(&joinedup::synth::SynthOptions {
                people: args.people,
                years: args.years,
                seed: args.seed,
                out: args.out.clone(),
                defect_rate: args.defect_rate,
                repo: args.repo.clone(),
                pseudonymise: args.pseudonymise.clone(),
            })?;
            let rows: u64 = truth.rows.values().sum();
            let seconds = started.elapsed().as_secs_f64();
            if !cli.quiet {
                say!(
                    "wrote {rows} rows ({}) in {seconds:.2} s ({:.0} rows/s) to {}; pipeline: {}",
                    truth
                        .rows
                        .iter()
                        .map(|(k, v)| format!("{k} {v}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    rows as f64 / seconds.max(1e-9),
                    args.out.display(),
                    args.out.join("pipeline.toml").display()
                );
            }
            Ok(error::ExitCode::Ok)
        }
        Command::Baseline(args) => {
            let out = || {
                args.out
                    .as_deref()
                    .ok_or_else(|| error::Error::Usage("--out is required".into()))
            };
            match args.part {
                None => {
                    let rows = joinedup::baseline::run(&args.input, out()?)?;
                    say!("{rows}");
                }
                Some(joinedup::cli::BaselinePart::Read) => {
                    let rows = joinedup::baseline::read_only(&args.input)?;
                    say!("{rows}");
                }
                Some(joinedup::cli::BaselinePart::Outputs) => {
                    let done = joinedup::baseline::rewrite_outputs(&args.input, out()?)?;
                    let json = serde_json::to_string(&done)
                        .map_err(|e| error::Error::Internal(e.to_string()))?;
                    say!("{json}");
                }
            }
            Ok(error::ExitCode::Ok)
        }
        Command::Check(args) => {
            // The sources given a file, when none is named: checking a new file should
            // not read every other source's history too.
            let only = if args.only.is_empty() {
                args.sources.iter().map(|o| o.name.clone()).collect()
            } else {
                args.only.clone()
            };
            let report = app::check::check(&app::check::CheckOptions {
                pipeline: args.pipeline.clone(),
                overrides: args.sources.clone(),
                only,
                out: args.out.clone(),
                show: args.show,
                contract: args.contract.clone(),
                files: args.files.clone(),
            })?;
            if args.json {
                let json = serde_json::to_string_pretty(&report)
                    .map_err(|e| error::Error::Internal(e.to_string()))?;
                say!("{json}");
            } else {
                say!("{}", report.render());
            }
            Ok(report.exit())
        }
        Command::Draft(args) => {
            let lists =
                joinedup::config::all_code_lists(&args.schemas).map_err(error::Error::Config)?;
            let name = args
                .name
                .clone()
                .unwrap_or_else(|| joinedup::schema::draft::name_from_file(&args.file));
            say!(
                "{}",
                joinedup::schema::draft::draft(&args.file, &name, &lists, args.sheet.as_deref())?
                    .trim_end()
            );
            Ok(error::ExitCode::Ok)
        }
        Command::Explain(args) => {
            let text = joinedup::explain::explain(&args.pipeline, &args.sources, &args.out)?;
            say!("{text}");
            Ok(error::ExitCode::Ok)
        }
        Command::Status(args) => {
            let text =
                joinedup::explain::status(args.pipeline.as_deref(), &args.sources, &args.out)?;
            say!("{text}");
            Ok(error::ExitCode::Ok)
        }
        Command::Pull(args) => {
            let reports = app::pull(&args.pipeline, &args.out)?;
            if !cli.quiet {
                say!("{}", joinedup::pull::report::render(&reports));
            }
            match joinedup::pull::failures_error(&reports) {
                Some(e) => Err(e),
                None => Ok(error::ExitCode::Ok),
            }
        }
        Command::Validate(args) => {
            let plan = app::validate(&args.pipeline, &args.sources)?;
            // What --source points at must exist, as a run would need it to: every one
            // that does not is named.
            let missing = args
                .sources
                .iter()
                .filter(|o| !o.path.exists())
                .map(|o| error::Error::SourceUnavailable {
                    source_name: o.name.clone(),
                    message: format!("--source {}: no such file or folder", o.path.display()),
                })
                .collect();
            if let Some(e) = error::Error::unavailable(missing) {
                return Err(e);
            }
            for m in app::check_here(&plan)? {
                tracing::warn!("not found here: {m}");
            }
            for w in plan
                .unfed_outputs()
                .into_iter()
                .chain(plan.person_key_warnings())
                .chain(app::disclosure_warnings(&plan))
            {
                tracing::warn!("{w}");
            }
            if !cli.quiet {
                say!(
                    "{}: ok ({} sources, {} datasets)",
                    plan.file.display(),
                    plan.source_count(),
                    plan.outputs.len()
                );
            }
            Ok(error::ExitCode::Ok)
        }
    }
}
