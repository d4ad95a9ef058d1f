//! `civitas cap …`: checking CAP alert files offline, against the OASIS CAP 1.2 schema
//! shipped in the program and the standard's rules beyond it.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use safety::cap::{self, model::CapVersion};

/// What `civitas cap` does.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Check CAP alert files: the official schema (CAP 1.1 as upgraded to 1.2) and the rules
    /// beyond it. Prints every problem with its element; exits 0 only when every file is a
    /// valid alert.
    Validate {
        /// The files (`-` for standard input).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print each valid alert as this platform writes it (CAP 1.2) after its verdict.
        #[arg(long)]
        print: bool,
    },
}

/// Runs a `civitas cap` command.
pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Validate { files, print } => {
            let mut all_valid = true;
            for file in &files {
                let name = file.display().to_string();
                let bytes = if name == "-" {
                    let mut bytes = Vec::new();
                    std::io::stdin().read_to_end(&mut bytes)?;
                    bytes
                } else {
                    match std::fs::read(file) {
                        Ok(bytes) => bytes,
                        Err(error) => {
                            println!("{name}: cannot be read: {error}");
                            all_valid = false;
                            continue;
                        }
                    }
                };
                let validation = cap::validate(&bytes);
                all_valid &= validation.is_valid();
                print!("{}", report(&name, &validation));
                if print
                    && let Some(read) = validation.read.as_ref().filter(|_| validation.is_valid())
                {
                    print!("{}", cap::write::write(&read.alert));
                }
            }
            Ok(if all_valid {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

/// The verdict on one file, a line per problem.
pub fn report(name: &str, validation: &cap::Validation) -> String {
    let mut out = String::new();
    match (&validation.read, validation.problems.is_empty()) {
        (Some(read), true) => {
            let alert = &read.alert;
            out.push_str(&format!(
                "{name}: valid CAP 1.2 — {} {} {} from {}, {} info block(s){}{}\n",
                alert.status.as_str(),
                alert.msg_type.as_str(),
                alert.identifier,
                alert.sender,
                alert.info.len(),
                if read.signature.is_some() {
                    ", signed (XML-DSig, kept verbatim)"
                } else {
                    ""
                },
                if read.encoding != "UTF-8" {
                    format!(", read as {}", read.encoding)
                } else {
                    String::new()
                },
            ));
        }
        _ => out.push_str(&format!(
            "{name}: NOT VALID — {} problem(s)\n",
            validation.problems.len().max(1)
        )),
    }
    if let Some(read) = &validation.read
        && read.version == CapVersion::V1_1
    {
        out.push_str("  CAP 1.1, checked as upgraded to 1.2");
        if read.upgrade_notes.is_empty() {
            out.push('\n');
        } else {
            out.push_str(":\n");
            for note in &read.upgrade_notes {
                out.push_str(&format!("    {note}\n"));
            }
        }
    }
    for problem in &validation.problems {
        out.push_str(&format!("  {}: {}\n", problem.element, problem.message));
    }
    out
}
