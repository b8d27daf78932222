//! The `joinedup` binary: parse the command line, run, map errors to exit codes.

use std::process::ExitCode;

use clap::Parser;
use joinedup::cli::{Cli, Command, LogFormat};
use joinedup::{app, error, summary, telemetry};

fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.log_format, cli.quiet);
    let code = match run(&cli) {
        Ok(code) => code,
        Err(e) => {
            let code = e.exit_code();
            if cli.log_format == LogFormat::Json {
                tracing::error!(exit_code = code as u8, "{}", error_chain(&e));
            } else {
                eprintln!("error: {}", error_chain(&e));
            }
            code
        }
    };
    ExitCode::from(code as u8)
}

fn error_chain(e: &error::Error) -> String {
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        s.push_str(&format!(": {inner}"));
        source = inner.source();
    }
    s
}

fn run(cli: &Cli) -> Result<error::ExitCode, error::Error> {
    match &cli.command {
        Command::Run(args) => {
            let report = app::run(&app::RunOptions {
                pipeline: args.pipeline.clone(),
                overrides: args.sources.clone(),
                out: args.out.clone(),
            })?;
            if !cli.quiet {
                #[allow(clippy::print_stdout)]
                {
                    println!(
                        "{}",
                        summary::render(
                            &report.manifest,
                            &report.manifest_path.display().to_string()
                        )
                    );
                    if let Some(path) = &report.report {
                        println!("report: {}", path.display());
                    }
                }
            }
            Ok(report.exit)
        }
        Command::Report(args) => {
            let path = joinedup::report::write(
                &args.out,
                &joinedup::report::Options {
                    icb: args.icb.clone(),
                },
            )?;
            if !cli.quiet {
                #[allow(clippy::print_stdout)]
                {
                    println!("report: {}", path.display());
                }
            }
            Ok(error::ExitCode::Ok)
        }
        Command::Validate(args) => {
            let plan = app::validate(&args.pipeline, &args.sources)?;
            if !cli.quiet {
                #[allow(clippy::print_stdout)]
                {
                    println!(
                        "{}: ok ({} sources, {} datasets)",
                        plan.file.display(),
                        plan.sources.len(),
                        plan.outputs.len()
                    );
                }
            }
            Ok(error::ExitCode::Ok)
        }
    }
}
