//! The `pickletool` binary against CPython's own `pickletools`: every listing and every
//! optimized pickle of a corpus CPython writes (tests/corpus.py), broken pickles included,
//! must be what pickletools gives, byte for byte.
//!
//! These tests need `python3` (3.11, the reference; `$PYTHON` overrides it). When `CI=true`
//! they fail without it; elsewhere they print a loud SKIPPED line and pass, as the root
//! package's interop tests do.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const CORPUS_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus.py");

/// The Python interpreter to test against: `$PYTHON`, or `python3`.
fn interpreter() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// Whether CPython is available. Panics when it is not and `CI=true`; otherwise says loudly
/// that the calling test is skipped.
fn python_available(test: &str) -> bool {
    let ok = Command::new(interpreter())
        .args(["-c", "import sys, pickletools; assert sys.version_info >= (3, 8)"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{test}: python3 is required when CI=true");
        }
        eprintln!("\n*** SKIPPED {test}: no python3 on this machine; pickletool is NOT tested ***\n");
    }
    ok
}

/// Runs `program` with `args` in `dir`. Python's str hashes are fixed (`PYTHONHASHSEED`):
/// a set's order after a round trip through pickle is not its order before where two of
/// its strs collide, which a random seed makes happen on some runs and not others.
fn run(program: &str, args: &[&str], dir: &Path) -> Output {
    let mut command = Command::new(program);
    command.args(args).current_dir(dir).env("PYTHONHASHSEED", "0");
    command.output().unwrap_or_else(|e| panic!("{program} runs: {e}"))
}

fn pickletool(args: &[&str], dir: &Path) -> Output {
    run(env!("CARGO_BIN_EXE_pickletool"), args, dir)
}

/// The corpus, written once per test run by `corpus.py gen`.
fn corpus() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pickletool-corpus");
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let out = run(&interpreter(), &[CORPUS_SCRIPT, "gen", dir.to_str().unwrap()], &dir);
        assert!(out.status.success(), "corpus.py gen failed:\n{}", String::from_utf8_lossy(&out.stderr));
        dir
    })
}

/// The names of the corpus's pickles, without `.pkl`.
fn pickles(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().into_string().ok()?.strip_suffix(".pkl").map(str::to_owned))
        .collect();
    names.sort();
    names
}

/// The offset a failed run names on stderr, as "(at byte N".
fn error_offset(out: &Output) -> Option<u64> {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let rest = &stderr[stderr.find("(at byte ")? + "(at byte ".len()..];
    rest[..rest.find(|c: char| !c.is_ascii_digit())?].parse().ok()
}

/// A failure is exit 1 with the offset, within the file, on stderr.
fn check_failure(out: &Output, name: &str, len: u64, problems: &mut Vec<String>) {
    match (out.status.code(), error_offset(out)) {
        (Some(1), Some(offset)) if offset <= len => {}
        (code, _) => problems.push(format!(
            "{name}: exit {code:?}, stderr {:?}, wanted exit 1 and an offset",
            String::from_utf8_lossy(&out.stderr)
        )),
    }
}

/// `dis`, `dis -a` and `dis -l 1` print what pickletools prints for every pickle, the
/// partial listing for a broken one, which also exits 1 with its offset.
#[test]
fn dis_matches_pickletools() {
    if !python_available("dis_matches_pickletools") {
        return;
    }
    let dir = corpus();
    let mut problems = Vec::new();
    let names = pickles(dir);
    for name in &names {
        let file = format!("{name}.pkl");
        let fails = dir.join(format!("{name}.fails")).exists();
        for (options, expected) in [(&[][..], "dis"), (&["-a"][..], "dis-a"), (&["-l", "1"][..], "dis-l1")] {
            let out = pickletool(&[&["dis"], options, &[file.as_str()]].concat(), dir);
            if out.stdout != fs::read(dir.join(format!("{name}.{expected}"))).unwrap() {
                problems.push(format!("{name}: `dis {options:?}` differs from pickletools"));
            }
            match fails {
                true => check_failure(&out, name, fs::metadata(dir.join(&file)).unwrap().len(), &mut problems),
                false if !out.status.success() => problems.push(format!("{name}: dis failed: {out:?}")),
                false => {}
            }
        }
    }
    let failing = names.iter().filter(|n| dir.join(format!("{n}.fails")).exists()).count();
    assert!(names.len() > 200 && failing > 40, "only {} pickles, {failing} broken", names.len());
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}

/// `optimize` writes what `pickletools.optimize` returns, fails (exit 1, offset) where it
/// raises, and what it writes loads in CPython to an object equal to the original's.
#[test]
fn optimize_matches_pickletools() {
    if !python_available("optimize_matches_pickletools") {
        return;
    }
    let dir = corpus();
    let mut problems = Vec::new();
    let mut compared = 0;
    for name in pickles(dir) {
        let ours = format!("{name}.ours-opt");
        let out = pickletool(&["optimize", &format!("{name}.pkl"), "-o", &ours], dir);
        match fs::read(dir.join(format!("{name}.opt"))) {
            Ok(theirs) => {
                compared += 1;
                if !out.status.success() || fs::read(dir.join(&ours)).ok() != Some(theirs) {
                    problems.push(format!("{name}: optimize differs from pickletools.optimize ({out:?})"));
                }
            }
            Err(_) => {
                check_failure(&out, &name, fs::metadata(dir.join(format!("{name}.pkl"))).unwrap().len(), &mut problems);
                let _ = fs::remove_file(dir.join(&ours));
            }
        }
    }
    assert!(compared > 150, "only {compared} optimized pickles compared");
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
    let check = run(&interpreter(), &[CORPUS_SCRIPT, "check", dir.to_str().unwrap()], dir);
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
}

/// Several files against `python3 -m pickletools` itself: preambles (with `{name}` and
/// braces), `--memo` shared across pickles one pickler wrote, `--output`; and without
/// `--memo`, the second file's GET of the first's PUT fails after its partial listing.
#[test]
fn options_match_the_pickletools_command() {
    if !python_available("options_match_the_pickletools_command") {
        return;
    }
    let dir = corpus();
    let files = ["memo0.pickle", "memo1.pickle", "memo2.pickle"];
    let cases: [&[&str]; 5] = [
        &["-m", "-p", "--- {name} {{braces}} ---"],
        &["-m", "-l", "-3"],
        &["-m", "-a", "-l", "2"],
        &["-m", "--indentlevel=0", "--annotate"],
        &[],
    ];
    for options in cases {
        let args = [options, &files[..]].concat();
        let ours = pickletool(&[&["dis"][..], &args].concat(), dir);
        let theirs = run(&interpreter(), &[&["-m", "pickletools"][..], &args].concat(), dir);
        assert_eq!(String::from_utf8_lossy(&ours.stdout), String::from_utf8_lossy(&theirs.stdout), "{options:?}");
        assert_eq!(ours.status.success(), theirs.status.success(), "{options:?}: {ours:?}");
    }
    let unshared = pickletool(&[&["dis"][..], &files[..]].concat(), dir);
    assert_eq!(error_offset(&unshared), Some(6), "{unshared:?}");
    assert!(String::from_utf8_lossy(&unshared.stderr).contains("memo1.pickle: memo key 0 has never been stored into"));
    pickletool(&["dis", "-o", "ours.txt", "memo0.pickle", "nested_p1.pkl"], dir);
    run(&interpreter(), &["-m", "pickletools", "-o", "theirs.txt", "memo0.pickle", "nested_p1.pkl"], dir);
    assert_eq!(fs::read(dir.join("ours.txt")).unwrap(), fs::read(dir.join("theirs.txt")).unwrap());
}

/// `show` prints what `repr(pickle.loads(data))` prints, for objects of builtin types:
/// shared objects printed each time they are reached, cycles as `[...]`, sets in the order
/// the pickle gives (the loading process's, as the corpus is written by the one process).
#[test]
fn show_matches_repr_for_builtins() {
    if !python_available("show_matches_repr_for_builtins") {
        return;
    }
    let dir = corpus();
    let mut compared = 0;
    for name in pickles(dir) {
        let Ok(expected) = fs::read(dir.join(format!("{name}.repr"))) else { continue };
        let out = pickletool(&["show", &format!("{name}.pkl")], dir);
        assert!(out.status.success(), "{name}: {out:?}");
        assert!(
            out.stdout == expected,
            "{name}: show differs from repr:\n{:.300}",
            String::from_utf8_lossy(&out.stdout)
        );
        compared += 1;
    }
    assert!(compared > 100, "only {compared} reprs compared");
    fs::write(dir.join("trailing.pkl"), b"\x80\x02]q\x00K\x01a.trailing").unwrap();
    assert_eq!(pickletool(&["show", "trailing.pkl"], dir).stdout, b"[1]\n", "bytes after STOP are ignored");
    let broken = pickletool(&["show", "bad_cut_nested_p2_29.pkl"], dir);
    assert_eq!(broken.status.code(), Some(1), "{broken:?}");
    assert!(error_offset(&broken).is_some(), "{broken:?}");
}

/// Broken pickles name the byte where they break: the opcode that is no opcode, the GET of
/// nothing, the end of the data; and for `dis`, the opcode that wants a MARK there is not
/// (`pickletools.optimize` does not check MARKs, so neither does `optimize`).
#[test]
fn errors_name_their_offset() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pickletool-errors");
    fs::create_dir_all(&dir).unwrap();
    let cases: [(&[u8], u64, &str); 4] = [
        (b"\x80\x02]\xffq\x00.", 3, "invalid load key"),
        (b"\x80\x02h\x05.", 2, "memo key 5 has never been stored into"),
        (b"\x80\x02N", 3, "Ran out of input"),
        (b"\x80\x02K\x01e.", 4, "no MARK exists on stack"),
    ];
    for (i, (pickle, offset, message)) in cases.into_iter().enumerate() {
        let file = format!("case{i}.pkl");
        fs::write(dir.join(&file), pickle).unwrap();
        let commands: &[&str] = if i < 3 { &["dis", "optimize"] } else { &["dis"] };
        for command in commands {
            let out = pickletool(&[command, &file], &dir);
            assert_eq!(out.status.code(), Some(1), "{command} {pickle:?}: {out:?}");
            assert_eq!(error_offset(&out), Some(offset), "{command} {pickle:?}: {out:?}");
        }
        let out = pickletool(&["dis", &file], &dir);
        assert!(String::from_utf8_lossy(&out.stderr).contains(message), "{out:?}");
    }
}

const SHOW_JSON_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/show_json.py");

/// The extra pickles for `show --json` (NaN, lone surrogates, a full reduction, persistent
/// ids), written once per test run by `show_json.py gen` with their expected JSON.
fn json_extras() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pickletool-json");
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let out = run(&interpreter(), &[SHOW_JSON_SCRIPT, "gen", dir.to_str().unwrap()], &dir);
        assert!(out.status.success(), "show_json.py gen failed:\n{}", String::from_utf8_lossy(&out.stderr));
        dir
    })
}

/// JSON text in one spelling: parsed and written again by serde_json (keys sorted, each
/// number in one form, `-0.0` kept apart from `0.0`).
fn canonical_json(text: &[u8]) -> Result<String, serde_json::Error> {
    serde_json::from_slice::<serde_json::Value>(text).map(|v| v.to_string())
}

/// `show --json` of `name.pkl` in `dir`, which must succeed.
fn show_json(dir: &Path, name: &str) -> String {
    let out = pickletool(&["show", "--json", &format!("{name}.pkl")], dir);
    assert!(out.status.success(), "{name}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// `show --json` prints, for every pickle CPython wrote, the JSON show_json.py computes from
/// CPython's reading of it: `pickle.loads` for builtin types (ints, floats with NaN, inf and
/// -0.0, strs with lone surrogates, bytes, bytearray, containers, dicts with tuple keys, sets,
/// shared and self-containing objects), and for instances, calls and persistent ids what
/// CPython's unpickler records with inert stand-ins for the classes; at protocols 0-5.
#[test]
fn show_json_matches_cpython() {
    if !python_available("show_json_matches_cpython") {
        return;
    }
    let mut compared = 0;
    let mut problems = Vec::new();
    for dir in [corpus(), json_extras()] {
        for name in pickles(dir) {
            let Ok(expected) = fs::read(dir.join(format!("{name}.json"))) else { continue };
            let ours = show_json(dir, &name);
            let expected_json = canonical_json(&expected).unwrap_or_else(|e| panic!("{name}.json: {e}"));
            if canonical_json(ours.as_bytes()).ok() != Some(expected_json) {
                problems.push(format!("{name}: ours {ours:.300}\nwanted {:.300}", String::from_utf8_lossy(&expected)));
            }
            compared += 1;
        }
    }
    assert!(compared > 200, "only {compared} pickles compared");
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}

/// The fields a script reads, spelled out: a reduction's callable, args, state and items;
/// NEWOBJ's `copyreg.__newobj__` and class; a datetime's call; floats that JSON numbers
/// cannot hold; a shared object written once and referred to after.
#[test]
fn show_json_fields() {
    if !python_available("show_json_fields") {
        return;
    }
    let parse = |dir: &Path, name: &str| serde_json::from_str::<serde_json::Value>(&show_json(dir, name)).unwrap();
    let reduced = &parse(json_extras(), "reduced_p2")["items"][0];
    // A global's "id" depends on how often the pickle names it; the name is what counts.
    let global = |v: &serde_json::Value| format!("{} {}.{}", v["type"], v["module"], v["name"]).replace('"', "");
    assert_eq!(reduced["type"], "object");
    assert_eq!(global(&reduced["callable"]), "global __main__.Reduced");
    assert_eq!(reduced["args"]["items"][1], serde_json::json!({"type": "str", "value": "two"}));
    assert_eq!(reduced["state"]["items"][0][1], serde_json::json!({"type": "int", "value": "3"}));
    assert_eq!(reduced["list_items"][0]["value"], "4");
    assert_eq!(reduced["dict_items"][0][0]["value"], "five");
    let point = &parse(corpus(), "instances_p2")["items"][0];
    assert_eq!(point["callable"]["name"], "__newobj__");
    assert_eq!(global(&point["args"]["items"][0]), "global __main__.Point");
    let datetime = &parse(corpus(), "stdlib_p4")["items"][0];
    assert_eq!(global(&datetime["callable"]), "global datetime.datetime");
    assert_eq!(datetime["args"]["items"][0]["type"], "bytes");
    let floats = show_json(json_extras(), "floats_p1");
    assert!(floats.contains(r#"{"type":"float","value":"nan"}"#), "{floats}");
    assert!(floats.contains(r#"{"type":"float","value":-0.0}"#), "{floats}");
    let shared = parse(corpus(), "memo_sharing_p3");
    assert_eq!(shared["items"][0]["id"], 0);
    assert_eq!(shared["items"][1], serde_json::json!({"ref": 0}));
}

/// `--json` on what is not a pickle, or a broken one, is exit 1 and one line on stderr,
/// never a panic; a deep and cyclic pickle is written without overflowing the stack.
#[test]
fn show_json_errors_and_depth() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pickletool-json-errors");
    fs::create_dir_all(&dir).unwrap();
    let depth = 9990;
    let deep = [&b"\x80\x02]q\x00"[..], &vec![b']'; depth], b"h\x00", &vec![b'a'; depth + 1], b"."].concat();
    let cases: [(&str, &[u8]); 4] =
        [("text", b"not a pickle\n"), ("empty", b""), ("cut", b"\x80\x02]q\x00(K\x01"), ("deep", &deep)];
    for (name, bytes) in cases {
        fs::write(dir.join(format!("{name}.pkl")), bytes).unwrap();
    }
    for name in ["text", "empty", "cut"] {
        let out = pickletool(&["show", "--json", &format!("{name}.pkl")], &dir);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {out:?}");
        assert!(stderr.starts_with("pickletool: ") && !stderr.contains("panicked"), "{name}: {stderr}");
        assert!(out.stdout.is_empty(), "{name}: {out:?}");
    }
    let deep = show_json(&dir, "deep");
    assert!(deep.starts_with(r#"{"type":"list","id":0,"items":[{"type":"list","items":["#), "{deep:.100}");
    assert_eq!(deep.matches(r#"{"ref":0}"#).count(), 1);
}
