//! `pickletool`: reads Python pickles from the command line without running them.
//!
//! It exists so that people who inspect pickles (model files, caches, queues) get what
//! `python3 -m pickletools` and `pickletools.optimize` give, byte for byte, from the engine
//! `pickle-core` decodes with, and with a typed error naming the byte offset where a pickle
//! is malformed. The work is in `pickle-core` (`dis_with`, `optimize`, the `Value` loader and
//! its `repr`, and the recorder `scan` runs); this file only reads arguments and files and
//! writes the results, `json.rs` writes `show --json`, and `scan/` finds the pickles inside
//! containers and judges what they would do.

use std::fs;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand};
use pickle_core::{DisOptions, PersistentLoad};

mod json;
mod scan;
mod torch;

#[derive(Parser)]
#[command(version, about = "Disassemble, show, optimize and scan Python pickles without running them")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Disassemble one or more pickle files, as `python3 -m pickletools` does
    Dis(DisArgs),
    /// Drop unused PUTs and renumber the memo, as `pickletools.optimize` does
    Optimize(OptimizeArgs),
    /// Print the object as Python's `repr` would, without importing or calling anything
    /// (a class instance or call shows as the call `module.Name(args)`), or as JSON for tools
    Show(ShowArgs),
    /// PyTorch checkpoints, read without Python under torch's weights-only policy
    #[command(subcommand)]
    Torch(torch::TorchCommand),
    /// Report every global each pickle in the files would import and every call it would
    /// make, with byte offsets, judged by an allowlist policy: exit 0 when all is safe, 1 when
    /// anything is unknown or dangerous, 2 when anything could not be read
    Scan(scan::ScanArgs),
}

#[derive(Args)]
struct DisArgs {
    /// The pickle files
    files: Vec<PathBuf>,
    /// The file where the output should be written (standard output by default)
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Preserve the memo between disassemblies
    #[arg(short, long)]
    memo: bool,
    /// The number of blanks by which to indent a new MARK level (at most 1024; below 0 is 0)
    #[arg(short = 'l', long, default_value_t = 4, allow_negative_numbers = true,
          value_parser = clap::value_parser!(i64).range(..=1024))]
    indentlevel: i64,
    /// Annotate each line with a short opcode description
    #[arg(short, long)]
    annotate: bool,
    /// If more than one pickle file is given, print this before each disassembly ({name} is
    /// the file's name)
    #[arg(short, long, default_value = "==> {name} <==", allow_hyphen_values = true)]
    preamble: String,
}

#[derive(Args)]
struct OptimizeArgs {
    /// The pickle file
    file: PathBuf,
    /// The file where the optimized pickle should be written (standard output by default)
    #[arg(short, long)]
    output: Option<PathBuf>,
}

#[derive(Args)]
struct ShowArgs {
    /// The pickle file
    file: PathBuf,
    #[arg(long, help = "Print the object as JSON (one line), for tools", long_help = json::HELP)]
    json: bool,
}

/// What went wrong, and the exit code it gives: 1 for a bad pickle, 2 for bad usage or a
/// file that cannot be read or written (argparse's code for those).
struct Failure {
    message: String,
    code: u8,
}

impl Failure {
    fn usage(message: String) -> Failure {
        Failure { message, code: 2 }
    }

    fn pickle(path: &std::path::Path, error: pickle_core::Error) -> Failure {
        Failure { message: format!("{}: {error}", path.display()), code: 1 }
    }
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Dis(args) => dis(&args),
        Command::Optimize(args) => optimize(&args),
        Command::Show(args) => show(&args),
        Command::Torch(command) => torch::run(&command),
        Command::Scan(args) => match scan::run(&args) {
            Ok(code) => return ExitCode::from(code),
            Err(message) => Err(Failure::usage(message)),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("pickletool: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

/// `python3 -m pickletools`: one file is listed bare, several each after their preamble,
/// with one memo for all under `--memo`. The listing up to a bad opcode is written before
/// the error is reported, as pickletools prints it before it raises.
fn dis(args: &DisArgs) -> Result<(), Failure> {
    if args.files.is_empty() {
        let mut command = Cli::command();
        let _ = command.find_subcommand_mut("dis").expect("dis is a subcommand").print_help();
        return Ok(());
    }
    let pickles = args.files.iter().map(read).collect::<Result<Vec<_>, _>>()?;
    let annotate = if args.annotate { 30 } else { 0 };
    let fresh = || DisOptions::new(args.indentlevel.max(0) as usize, annotate);
    let mut shared = fresh();
    let mut sink = open_output(args.output.as_ref())?;
    let mut out = String::new();
    for (path, pickle) in args.files.iter().zip(&pickles) {
        let mut own = fresh();
        let options = if args.memo { &mut shared } else { &mut own };
        if args.files.len() > 1 {
            out.push_str(&preamble(&args.preamble, &path.display().to_string())?);
            out.push('\n');
        }
        let result = pickle_core::dis_with(pickle, options, &mut out).map_err(|e| Failure::pickle(path, e));
        // Each file's listing goes out as soon as it is made, a failed one too.
        sink.write_all(out.as_bytes()).and_then(|()| sink.flush()).map_err(output_failed)?;
        out.clear();
        result?;
    }
    Ok(())
}

/// `pickletools.optimize` of one file, written to `--output` or standard output.
fn optimize(args: &OptimizeArgs) -> Result<(), Failure> {
    let pickle = read(&args.file)?;
    let optimized = pickle_core::optimize(&pickle).map_err(|e| Failure::pickle(&args.file, e))?;
    write(args.output.as_ref(), &optimized)
}

/// The object, decoded by pickle-core into an inert `Value` (every global and every
/// persistent id is data, so nothing is refused and nothing runs), printed in Python's
/// `repr` syntax, or with `--json` as the JSON `json.rs` describes. Bytes after the STOP are
/// ignored, as `pickle.loads` ignores them.
fn show(args: &ShowArgs) -> Result<(), Failure> {
    let pickle = read(&args.file)?;
    let mut unpickler = pickle_core::Unpickler::from_slice(&pickle).persistent_load(PersistentLoad::Keep);
    let loaded = unpickler.load::<pickle_core::Value>();
    let value = loaded.map_err(|e| Failure::pickle(&args.file, e))?;
    let text = match args.json {
        true => {
            json::to_json(&value).map_err(|e| Failure { message: format!("{}: {e}", args.file.display()), code: 1 })?
        }
        false => value.to_string(),
    };
    write(None, format!("{text}\n").as_bytes())
}

/// The preamble with the file's name put in: Python's `str.format` with only `{name}`
/// (and `{{`, `}}` for braces).
fn preamble(template: &str, name: &str) -> Result<String, Failure> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(at) = rest.find(['{', '}']) {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let (piece, skip) = match rest {
            _ if rest.starts_with("{{") => ("{", 2),
            _ if rest.starts_with("}}") => ("}", 2),
            _ if rest.starts_with("{name}") => (name, 6),
            _ => return Err(Failure::usage(format!("--preamble: only {{name}} can be replaced, in {template:?}"))),
        };
        out.push_str(piece);
        rest = &rest[skip..];
    }
    out.push_str(rest);
    Ok(out)
}

fn read(path: &PathBuf) -> Result<Vec<u8>, Failure> {
    fs::read(path).map_err(|e| Failure::usage(format!("can't open '{}': {e}", path.display())))
}

/// The file at `path`, created or truncated, or standard output.
fn open_output(path: Option<&PathBuf>) -> Result<Box<dyn Write>, Failure> {
    match path {
        Some(path) => match fs::File::create(path) {
            Ok(file) => Ok(Box::new(io::BufWriter::new(file))),
            Err(e) => Err(Failure::usage(format!("can't open '{}': {e}", path.display()))),
        },
        None => Ok(Box::new(io::stdout().lock())),
    }
}

/// Writes `data` to the file at `path`, or to standard output.
fn write(path: Option<&PathBuf>, data: &[u8]) -> Result<(), Failure> {
    let mut sink = open_output(path)?;
    sink.write_all(data).and_then(|()| sink.flush()).map_err(output_failed)
}

fn output_failed(error: io::Error) -> Failure {
    Failure::usage(format!("can't write the output: {error}"))
}
