//! `pickletool scan`: what every pickle in the files given would import and call, judged by an
//! allowlist policy, as text, JSON or SARIF, with the exit code a CI gate needs (0 all safe,
//! 1 something unknown or dangerous, 2 something that could not be read).
//!
//! The evidence comes from `pickle_core::scan::record`, the decoding engine with a recorder;
//! `container.rs` finds the pickles inside files, `policy.rs` judges each finding, `report.rs`
//! writes the results.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use pickle_core::scan::{Found, ScanOptions};

mod container;
mod policy;
mod report;

use policy::Policy;
pub use policy::Verdict;

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
}

#[derive(Args)]
pub struct ScanArgs {
    /// Files and directories (scanned recursively) to scan
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Comma-separated presets (stdlib, numpy, torch-weights-only, joblib, sklearn) and paths
    /// of TOML files (`allow = ["pkg.Name", "pkg.*"]`, `allow_classes_in = ["pkg"]`,
    /// `[dangerous]` table of `"pkg.name" = "why"`)
    #[arg(long, default_value = "stdlib,numpy,torch-weights-only,joblib")]
    pub policy: String,
    /// How to print the results
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// How deep pickles passed as bytes to loaders (pickle.loads, torch.load) are followed
    /// (at most 64)
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u8).range(..=64))]
    pub max_nesting: u8,
    /// In text, list safe findings too (grouped by name)
    #[arg(long)]
    pub all: bool,
}

/// One finding with its verdict.
pub struct Judged {
    pub found: Found,
    pub verdict: Verdict,
    pub reason: String,
}

/// One pickle (or one member that could not be read) of one file.
pub struct FileReport {
    pub path: String,
    pub member: Option<String>,
    pub container: String,
    pub verdict: Verdict,
    pub findings: Vec<Judged>,
    /// Why reading stopped: the pickle broke, or the member or file did not read.
    pub error: Option<String>,
}

/// Runs the scan; the exit code.
pub fn run(args: &ScanArgs) -> Result<u8, String> {
    let policy = Policy::from_spec(&args.policy)?;
    let options = ScanOptions { max_nesting: args.max_nesting.into(), ..ScanOptions::default() };
    let mut reports = Vec::new();
    for path in &args.paths {
        scan_path(path, true, &policy, &options, &mut reports);
    }
    let text = match args.format {
        Format::Text => report::text(&reports, args.all),
        Format::Json => report::json(&reports),
        Format::Sarif => report::sarif(&reports),
    };
    print!("{text}");
    Ok(exit_code(&reports))
}

/// 2 when anything could not be read, else 1 when anything is not safe, else 0.
fn exit_code(reports: &[FileReport]) -> u8 {
    if reports.iter().any(|r| r.error.is_some()) {
        2
    } else if reports.iter().any(|r| r.verdict != Verdict::Safe) {
        1
    } else {
        0
    }
}

/// A file, or every file under a directory (in name order). A file met in a directory that
/// is neither a pickle nor a container is passed over; one named on the command line is an
/// error.
fn scan_path(path: &Path, named: bool, policy: &Policy, options: &ScanOptions, out: &mut Vec<FileReport>) {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(path) {
            Ok(dir) => dir.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(e) => return out.push(failed(path, format!("can't read the directory: {e}"))),
        };
        entries.sort();
        for entry in entries {
            if !entry.is_symlink() {
                scan_path(&entry, false, policy, options, out);
            }
        }
        return;
    }
    let units = match container::scan_file(path, options) {
        Ok(units) => units,
        Err(e) => return out.push(failed(path, format!("can't read the file: {e}"))),
    };
    if let [unit] = units.as_slice() {
        if unit.is_not_a_pickle() {
            if named {
                out.push(failed(path, "neither a pickle nor a container of pickles that pickletool reads".into()));
            }
            return;
        }
    }
    out.extend(units.into_iter().map(|unit| judge(path, unit, policy)));
}

fn failed(path: &Path, error: String) -> FileReport {
    FileReport {
        path: path.display().to_string(),
        member: None,
        container: "file".into(),
        verdict: Verdict::Unknown,
        findings: Vec::new(),
        error: Some(error),
    }
}

fn judge(path: &Path, unit: container::Unit, policy: &Policy) -> FileReport {
    let mut error = unit.error;
    let mut findings = Vec::new();
    if let Some(record) = unit.record {
        if let Some(e) = record.error {
            error = Some(e.to_string());
        }
        findings = record
            .found
            .into_iter()
            .map(|found| {
                let (verdict, reason) = policy.judge(&found);
                Judged { found, verdict, reason }
            })
            .collect();
    }
    let worst = findings.iter().map(|j| j.verdict).max().unwrap_or(Verdict::Safe);
    let verdict = if error.is_some() && findings.is_empty() { Verdict::Unknown } else { worst };
    FileReport {
        path: path.display().to_string(),
        member: unit.member,
        container: unit.container.into(),
        verdict,
        findings,
        error,
    }
}
