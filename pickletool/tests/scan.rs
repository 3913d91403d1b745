//! `pickletool scan` against a corpus: malicious pickles built here by hand as bytes (never
//! loaded by anything), one or more per bypass family of issue 19, each expected `dangerous`
//! or `unknown` with the finding that makes it so; and benign pickles the real CPython, numpy
//! and torch write (tests/scan_corpus.py), expected `safe` under the matching presets.
//!
//! The benign set needs `python3` and numpy's `target/pyenv` (made by `.ci/run`): when
//! `CI=true` it fails without them; elsewhere it prints a loud SKIPPED line. Torch
//! checkpoints are written by torch when `$TORCH_PYTHON` names a python that has it;
//! without it that part is skipped (torch is not on CI's machine).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value as Json;

const CORPUS_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scan_corpus.py");
const NUMPY_PYTHON: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/pyenv/bin/python");

/// `os.system('id')` at protocol 0: the payload the families below hide.
const OS_SYSTEM: &[u8] = b"cos\nsystem\n(S'id'\ntR.";

fn temp_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `pickletool scan --format json` with `args`: the exit code and the parsed report.
fn scan(args: &[&str]) -> (i32, Json) {
    let out = Command::new(env!("CARGO_BIN_EXE_pickletool"))
        .arg("scan")
        .args(["--format", "json"])
        .args(args)
        .output()
        .expect("pickletool runs");
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("JSON ({e}):\n{}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code().expect("an exit code"), json)
}

fn files(report: &Json) -> &Vec<Json> {
    report["files"].as_array().expect("files")
}

/// The reports for the file named `name` (one per pickle in it).
fn reports_for<'a>(report: &'a Json, name: &str) -> Vec<&'a Json> {
    files(report).iter().filter(|f| Path::new(f["path"].as_str().unwrap()).file_name().unwrap() == name).collect()
}

/// Whether a finding of `action` names `dotted` (`module.name`), at `offset` if given.
fn has(file: &Json, action: &str, dotted: &str, offset: Option<u64>) -> bool {
    file["findings"].as_array().unwrap().iter().any(|f| {
        let name = match f["name"].as_str().unwrap() {
            "" => f["module"].as_str().unwrap().to_owned(),
            n => format!("{}.{n}", f["module"].as_str().unwrap()),
        };
        f["action"] == action && name == dotted && offset.is_none_or(|o| f["offset"] == o)
    })
}

// ----- building malicious files by hand -----

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A ZIP of stored members, written field by field so its flag bits and CRCs can be odd.
fn zip(members: &[(&str, &[u8])], flags: u16, bad_crc: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in members {
        let crc = crc32(data) ^ u32::from(bad_crc);
        let offset = out.len() as u32;
        let fixed = |sig: u32, central: bool| {
            let mut h = sig.to_le_bytes().to_vec();
            if central {
                h.extend(20u16.to_le_bytes());
            }
            for v in [20u16, flags, 0, 0, 0] {
                h.extend(v.to_le_bytes());
            }
            for v in [crc, data.len() as u32, data.len() as u32] {
                h.extend(v.to_le_bytes());
            }
            h.extend((name.len() as u16).to_le_bytes());
            h.extend(0u16.to_le_bytes());
            h
        };
        out.extend(fixed(0x0403_4b50, false));
        out.extend(name.as_bytes());
        out.extend(*data);
        central.extend(fixed(0x0201_4b50, true));
        central.extend([0u8; 10]); // comment length, disk, internal (2) and external (4) attributes
        central.extend(offset.to_le_bytes());
        central.extend(name.as_bytes());
    }
    let start = out.len() as u32;
    out.extend(&central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0u8; 4]);
    out.extend((members.len() as u16).to_le_bytes());
    out.extend((members.len() as u16).to_le_bytes());
    out.extend((central.len() as u32).to_le_bytes());
    out.extend(start.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

/// A `.npy` of an object array: numpy's header, then the pickle.
fn npy(pickle: &[u8]) -> Vec<u8> {
    let mut header = "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }".to_owned();
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    out.extend(pickle);
    out
}

fn tar(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, data) in members {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        builder.append_data(&mut header, name, *data).unwrap();
    }
    builder.into_inner().unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// A legacy torch file: the magic number, the protocol version and sys info pickles (as
/// torch writes them at protocol 2), then `data` as the main pickle.
fn torch_legacy(data: &[u8]) -> Vec<u8> {
    let mut out = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.".to_vec();
    out.extend(b"\x80\x02M\xe9\x03.");
    out.extend(b"\x80\x02}q\x00X\x10\x00\x00\x00protocol_versionq\x01M\xe9\x03s.");
    out.extend(data);
    out.extend(b"\x80\x02]q\x00.");
    out
}

/// `loader(payload)`: `pickle.loads(b'...')` and kin.
fn nested(module: &str, name: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = b"\x80\x03".to_vec();
    out.extend(format!("c{module}\n{name}\n").into_bytes());
    out.push(b'B');
    out.extend((payload.len() as u32).to_le_bytes());
    out.extend(payload);
    out.extend(b"\x85R.");
    out
}

struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    verdict: &'static str,
    /// A finding that must be there: action, `module.name`, offset.
    finding: (&'static str, &'static str, Option<u64>),
}

fn case(
    name: &'static str,
    bytes: Vec<u8>,
    verdict: &'static str,
    finding: (&'static str, &'static str, Option<u64>),
) -> Case {
    Case { name, bytes, verdict, finding }
}

fn malicious() -> Vec<Case> {
    let mut broken = OS_SYSTEM[..OS_SYSTEM.len() - 1].to_vec();
    broken.push(0xff);
    let torch_zip =
        |flags, bad_crc| zip(&[("anything/data.pkl", OS_SYSTEM), ("anything/version", b"3\n")], flags, bad_crc);
    let mut damaged = torch_zip(0, false);
    let eocd = damaged.len() - 22;
    damaged[eocd] = b'X'; // no end of central directory record: torch's reader would fail, the local headers remain
    let bytes_io = {
        let mut p = b"\x80\x03ctorch\nload\ncio\nBytesIO\nB".to_vec();
        p.extend((OS_SYSTEM.len() as u32).to_le_bytes());
        p.extend(OS_SYSTEM);
        p.extend(b"\x85R\x85R.");
        p
    };
    // getattr(pickle.Unpickler(io.BytesIO(b'...')), 'load')()
    let unpickler = {
        let mut p = b"\x80\x03cbuiltins\ngetattr\ncpickle\nUnpickler\ncio\nBytesIO\nB".to_vec();
        p.extend((OS_SYSTEM.len() as u32).to_le_bytes());
        p.extend(OS_SYSTEM);
        p.extend(b"\x85R\x85RX\x04\x00\x00\x00load\x86R)R.");
        p
    };
    let latin1 = {
        let mut p = b"\x80\x02c_pickle\nloads\nc_codecs\nencode\nX".to_vec();
        p.extend((OS_SYSTEM.len() as u32).to_le_bytes());
        p.extend(OS_SYSTEM);
        p.extend(b"X\x06\x00\x00\x00latin1\x86R\x85R.");
        p
    };
    vec![
        case("plain_reduce.pkl", OS_SYSTEM.to_vec(), "dangerous", ("call", "os.system", Some(19))),
        // Names memoized, popped, and read back with GET: no string precedes the STACK_GLOBAL.
        case(
            "memo_names.pkl",
            b"\x80\x04\x8c\x02os\x940\x8c\x06system\x940h\x00h\x01\x93\x8c\x02id\x85R.".to_vec(),
            "dangerous",
            ("call", "os.system", Some(28)),
        ),
        case(
            "string_opcodes.pkl",
            b"\x80\x04S'os'\nU\x06system\x93U\x02id\x85R.".to_vec(),
            "dangerous",
            ("import", "os.system", Some(16)),
        ),
        case(
            "binstring_posix.pkl",
            b"\x80\x04T\x05\x00\x00\x00posixVsystem\n\x93U\x02id\x85R.".to_vec(),
            "dangerous",
            ("call", "posix.system", None),
        ),
        case(
            "getattr_import.pkl",
            b"cbuiltins\ngetattr\n(cbuiltins\n__import__\n(S'os'\ntRS'system'\ntR(S'id'\ntR.".to_vec(),
            "dangerous",
            ("attribute", "os.system", None),
        ),
        case(
            "getattr_chain.pkl",
            b"cbuiltins\ngetattr\n(cnumpy.testing._private.utils\nos\nS'system'\ntR(S'id'\ntR.".to_vec(),
            "dangerous",
            ("call", "numpy.testing._private.utils.os.system", None),
        ),
        case(
            "dotted_qualname.pkl",
            b"\x80\x04\x8c\x1cnumpy.testing._private.utils\x8c\x09os.system\x93\x8c\x02id\x85R.".to_vec(),
            "dangerous",
            ("import", "numpy.testing._private.utils.os.system", Some(43)),
        ),
        // BUILD with slot state on an allowed class: CPython sets the class's attributes. The
        // scan goes on past it, as CPython does, to the os.system call after.
        case(
            "build_on_global.pkl",
            b"ccollections\nOrderedDict\n(N}S'__reduce__'\nI1\nstb0cos\nsystem\n(S'id'\ntR.".to_vec(),
            "dangerous",
            ("mutate", "collections.OrderedDict", Some(47)),
        ),
        case(
            "setitem_on_global.pkl",
            b"cos\nenviron\nS'LD_PRELOAD'\nS'/tmp/x.so'\ns.".to_vec(),
            "dangerous",
            ("mutate", "os.environ", None),
        ),
        case(
            "appends_on_global.pkl",
            b"csys\npath\n(S'/tmp/evil'\ne.".to_vec(),
            "dangerous",
            ("mutate", "sys.path", None),
        ),
        case(
            "nested_pickle_loads.pkl",
            nested("pickle", "loads", OS_SYSTEM),
            "dangerous",
            ("call", "os.system", Some(19)),
        ),
        case("nested_codecs.pkl", latin1, "dangerous", ("call", "os.system", Some(19))),
        case("nested_torch_bytesio.pkl", bytes_io, "dangerous", ("call", "os.system", Some(19))),
        case("nested_unpickler.pkl", unpickler, "dangerous", ("call", "os.system", Some(19))),
        case("broken_after_reduce.pkl", broken, "dangerous", ("call", "os.system", Some(19))),
        case("truncated_after_reduce.pkl", OS_SYSTEM[..20].to_vec(), "dangerous", ("call", "os.system", Some(19))),
        case("inst.pkl", b"(S'id'\nios\nsystem\n.".to_vec(), "dangerous", ("call", "os.system", Some(7))),
        case("obj.pkl", b"(cos\nsystem\nS'id'\no.".to_vec(), "dangerous", ("call", "os.system", Some(18))),
        case(
            "newobj.pkl",
            b"\x80\x02csubprocess\nPopen\n(S'id'\nt\x81.".to_vec(),
            "dangerous",
            ("call", "subprocess.Popen", Some(28)),
        ),
        case(
            "newobj_ex.pkl",
            b"\x80\x04csubprocess\nPopen\n)}\x92.".to_vec(),
            "dangerous",
            ("call", "subprocess.Popen", Some(22)),
        ),
        case(
            "python2_builtin.pkl",
            b"c__builtin__\neval\n(S'1'\ntR.".to_vec(),
            "dangerous",
            ("call", "builtins.eval", None),
        ),
        case(
            "extension_code.pkl",
            b"\x80\x02\x82\x01)R.".to_vec(),
            "unknown",
            ("extension", "copyreg._extension_registry.code 1", Some(2)),
        ),
        case("unknown_class.pkl", b"\x80\x02cmylib\nModel\n)\x81.".to_vec(), "unknown", ("call", "mylib.Model", None)),
        case("torch_zip.pt", torch_zip(0, false), "dangerous", ("call", "os.system", Some(19))),
        case("torch_zip_encrypted_flag.pt", torch_zip(1, false), "dangerous", ("call", "os.system", Some(19))),
        case("torch_zip_bad_crc.pt", torch_zip(0, true), "dangerous", ("call", "os.system", Some(19))),
        case("torch_zip_damaged_directory.pt", damaged, "dangerous", ("call", "os.system", Some(19))),
        case(
            "zip_other_member.zip",
            zip(&[("model/weights.bin", b"\x80\x02K\x01."), ("model/evil", OS_SYSTEM)], 0, false),
            "dangerous",
            ("call", "os.system", Some(19)),
        ),
        case(
            "zip_sniffed_member.zip",
            zip(
                &[("readme.txt", b"hello"), ("model/evil", b"\x80\x02cos\nsystem\nX\x02\x00\x00\x00id\x85R.")],
                0,
                false,
            ),
            "dangerous",
            ("call", "os.system", None),
        ),
        case("object_array.npy", npy(OS_SYSTEM), "dangerous", ("call", "os.system", Some(19 + 128))),
        case("arrays.npz", zip(&[("a.npy", &npy(OS_SYSTEM))], 0, false), "dangerous", ("call", "os.system", None)),
        case("archive.tar", tar(&[("dir/model.pkl", OS_SYSTEM)]), "dangerous", ("call", "os.system", Some(19))),
        case("pickle.gz", gzip(OS_SYSTEM), "dangerous", ("call", "os.system", Some(19))),
        // The main pickle starts at 54, after the three torch writes first.
        case("torch_legacy.pt", torch_legacy(OS_SYSTEM), "dangerous", ("call", "os.system", Some(54 + 19))),
        case(
            "second_in_stream.pkl",
            [&b"\x80\x02K\x01."[..], OS_SYSTEM].concat(),
            "dangerous",
            ("call", "os.system", Some(24)),
        ),
    ]
}

#[test]
fn every_bypass_family_is_caught() {
    let dir = temp_dir("scan-malicious");
    let cases = malicious();
    for case in &cases {
        fs::write(dir.join(case.name), &case.bytes).unwrap();
    }
    let (code, report) = scan(&["--policy", "stdlib,numpy,torch-weights-only", dir.to_str().unwrap()]);
    assert_eq!(code, 2, "broken pickles are errors: exit 2");
    let mut failures = Vec::new();
    for case in &cases {
        let reports = reports_for(&report, case.name);
        let worst = reports.iter().map(|r| r["verdict"].as_str().unwrap()).max_by_key(|v| rank(v)).unwrap_or("missing");
        let (action, dotted, offset) = case.finding;
        let found = case.verdict == "safe" || reports.iter().any(|r| has(r, action, dotted, offset));
        if worst != case.verdict || !found {
            let seen: Vec<String> = reports
                .iter()
                .flat_map(|r| r["findings"].as_array().unwrap())
                .map(|f| format!("{} {}.{} at {} {}", f["action"], f["module"], f["name"], f["offset"], f["verdict"]))
                .collect();
            let errors: Vec<_> = reports.iter().map(|r| r["error"].clone()).collect();
            failures
                .push(format!("{}: {worst}, {action} {dotted} at {offset:?}: {found}; {seen:?} {errors:?}", case.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Only the ZIP without a central directory is walked by its local headers.
    let walked: Vec<_> =
        files(&report).iter().filter(|f| f["container"] == "zip-local-headers").map(|f| f["path"].clone()).collect();
    assert_eq!(walked.len(), 1, "{walked:?}");
    assert!(walked[0].as_str().unwrap().ends_with("torch_zip_damaged_directory.pt"));
}

/// Every global CPython's own unpickler asks `find_class` for in each plain pickle of the
/// corpus (run with inert stubs: scan_corpus.py witness) is among the scan's imports.
#[test]
fn every_global_cpython_resolves_is_reported() {
    if !available("python3", "import pickle", "the CPython witness of the malicious corpus", true) {
        return;
    }
    let dir = temp_dir("scan-witness");
    let mut paths = Vec::new();
    for case in malicious().iter().filter(|c| c.name.ends_with(".pkl")) {
        fs::write(dir.join(case.name), &case.bytes).unwrap();
        paths.push(dir.join(case.name).to_str().unwrap().to_owned());
    }
    let out = Command::new("python3").arg(CORPUS_SCRIPT).arg("witness").args(&paths).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let asked: Json = serde_json::from_slice(&out.stdout).unwrap();
    let (_, report) = scan(&[dir.to_str().unwrap()]);
    let mut missing = Vec::new();
    for (name, globals) in asked.as_object().unwrap() {
        let reports = reports_for(&report, name);
        for global in globals.as_array().unwrap() {
            let dotted = format!("{}.{}", global[0].as_str().unwrap(), global[1].as_str().unwrap());
            if !reports.iter().any(|r| has(r, "import", &dotted, None)) {
                missing.push(format!("{name}: {dotted}"));
            }
        }
    }
    assert!(missing.is_empty(), "CPython imports what the scan does not report: {missing:?}");
    assert!(asked["build_on_global.pkl"].as_array().unwrap().len() == 2, "CPython goes on past BUILD on a global");
}

fn rank(verdict: &str) -> u8 {
    match verdict {
        "safe" => 0,
        "unknown" => 1,
        _ => 2,
    }
}

#[test]
fn nested_findings_say_where_the_bytes_are() {
    let dir = temp_dir("scan-nested");
    let path = dir.join("nested.pkl");
    fs::write(&path, nested("pickle", "loads", OS_SYSTEM)).unwrap();
    let (code, report) = scan(&[path.to_str().unwrap()]);
    assert_eq!(code, 1);
    let findings = files(&report)[0]["findings"].as_array().unwrap();
    let inner = findings.iter().find(|f| f["module"] == "os" && f["action"] == "call").expect("the nested call");
    assert_eq!(inner["nested_in"], serde_json::json!([16]), "the BINBYTES at 16 holds it");
    assert!(findings.iter().any(|f| f["module"] == "pickle" && f["verdict"] == "dangerous"));
}

#[test]
fn exit_codes_and_formats() {
    let dir = temp_dir("scan-exit");
    let (safe, evil, broken) = (dir.join("safe.pkl"), dir.join("evil.pkl"), dir.join("broken.pkl"));
    fs::write(&safe, b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00]\x94K\x01a.").unwrap();
    fs::write(&evil, OS_SYSTEM).unwrap();
    fs::write(&broken, &OS_SYSTEM[..5]).unwrap();
    assert_eq!(scan(&[safe.to_str().unwrap()]).0, 0);
    assert_eq!(scan(&[safe.to_str().unwrap(), evil.to_str().unwrap()]).0, 1);
    assert_eq!(scan(&[evil.to_str().unwrap(), broken.to_str().unwrap()]).0, 2);
    let text = Command::new(env!("CARGO_BIN_EXE_pickletool")).args(["scan", evil.to_str().unwrap()]).output().unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("dangerous call      os.system at 19: os.*"), "{text}");
    let sarif = Command::new(env!("CARGO_BIN_EXE_pickletool"))
        .args(["scan", "--format", "sarif", evil.to_str().unwrap()])
        .output()
        .unwrap();
    let sarif: Json = serde_json::from_slice(&sarif.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["byteOffset"], 0);
}

#[test]
fn user_policy_files_allow_and_deny() {
    let dir = temp_dir("scan-policy");
    let pickle = dir.join("model.pkl");
    fs::write(&pickle, b"\x80\x02cmylib\nModel\n)\x81cmylib\nrun\n)R.").unwrap();
    let policy = dir.join("policy.toml");
    fs::write(&policy, "allow = [\"mylib.Model\"]\n[dangerous]\n\"mylib.run\" = \"runs the model's shell hooks\"\n")
        .unwrap();
    let (code, report) = scan(&["--policy", &format!("stdlib,{}", policy.display()), pickle.to_str().unwrap()]);
    assert_eq!(code, 1);
    let findings = files(&report)[0]["findings"].as_array().unwrap();
    let verdict = |name: &str| findings.iter().find(|f| f["name"] == name).unwrap()["verdict"].clone();
    assert_eq!(verdict("Model"), "safe");
    assert_eq!(verdict("run"), "dangerous");
    let bad = Command::new(env!("CARGO_BIN_EXE_pickletool"))
        .args(["scan", "--policy", "no-such-preset", pickle.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no-such-preset"));
}

/// Whether `python` runs `check`; panics under `CI=true` when it does not, otherwise says
/// loudly what is skipped.
fn available(python: &str, check: &str, what: &str, required: bool) -> bool {
    let ok = Command::new(python).args(["-c", check]).status().is_ok_and(|s| s.success());
    if !ok {
        if required && std::env::var("CI").as_deref() == Ok("true") {
            panic!("{what} is required when CI=true");
        }
        eprintln!("\n*** SKIPPED {what}: {python} can't run it ***\n");
    }
    ok
}

fn generate(python: &str, kind: &str, dir: &Path) {
    let out = Command::new(python).args([CORPUS_SCRIPT, kind, dir.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "scan_corpus.py {kind}: {}", String::from_utf8_lossy(&out.stderr));
}

/// What CPython, numpy and torch write is safe under the matching presets, every pickle of
/// it, and a stricter policy than the matching one is not silent about it.
#[test]
fn benign_pickles_from_the_real_libraries_are_safe() {
    let dir = temp_dir("scan-benign");
    let mut policies = Vec::new();
    if available("python3", "import pickle", "the stdlib part of the benign scan corpus", true) {
        generate("python3", "stdlib", &dir.join("stdlib"));
        policies.push(("stdlib", "stdlib"));
    }
    if available(NUMPY_PYTHON, "import numpy", "the numpy part of the benign scan corpus", true) {
        generate(NUMPY_PYTHON, "numpy", &dir.join("numpy"));
        policies.push(("numpy", "stdlib,numpy"));
    }
    let torch = std::env::var("TORCH_PYTHON").unwrap_or_else(|_| "python3".into());
    if available(&torch, "import torch", "the torch part of the benign scan corpus ($TORCH_PYTHON)", false) {
        generate(&torch, "torch", &dir.join("torch"));
        policies.push(("torch", "torch-weights-only"));
    }
    for (sub, policy) in policies {
        let (code, report) = scan(&["--policy", policy, dir.join(sub).to_str().unwrap()]);
        let unsafe_ones: Vec<_> = files(&report).iter().filter(|f| f["verdict"] != "safe").collect();
        assert!(unsafe_ones.is_empty(), "{sub} under {policy}: {unsafe_ones:#?}");
        assert_eq!(code, 0, "{sub}");
        assert!(files(&report).len() >= 3, "{sub}: {report}");
    }
}

/// What joblib 1.6.0 wrote (tests/fixtures/scan/, made by `scan_corpus.py joblib`): arrays
/// inline between opcodes, an object array as a pickle of its own, files compressed with
/// zlib, bz2, lzma and xz, and an object whose pickle calls os.system after an array.
#[test]
fn joblib_files_are_read_through_their_inline_arrays() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scan");
    let path = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    let (code, report) =
        scan(&["--policy", "stdlib,numpy,joblib", &path("joblib_arrays.joblib"), &path("joblib_zlib.joblib")]);
    assert_eq!(code, 0, "{report:#}");
    let first = &files(&report)[0];
    assert!(has(first, "call", "numpy._core.multiarray._reconstruct", None), "the object array's own pickle");
    assert_eq!(files(&report)[1]["container"], "zlib");
    let compressed: Vec<String> = ["bz2", "lzma", "xz"].iter().map(|c| path(&format!("joblib_{c}.joblib"))).collect();
    let (code, report) = scan(
        &[&["--policy", "stdlib,numpy,joblib"][..], &compressed.iter().map(String::as_str).collect::<Vec<_>>()]
            .concat(),
    );
    assert_eq!(code, 0, "{report:#}");
    let containers: Vec<_> = files(&report).iter().map(|f| f["container"].as_str().unwrap()).collect();
    assert_eq!(containers, ["bzip2", "lzma", "xz"]);
    let (code, report) = scan(&[&path("joblib_os_system.joblib")]);
    assert_eq!(code, 1);
    // 313 and 322 are the STACK_GLOBAL and REDUCE bytes after the array's 40 raw bytes.
    assert!(has(&files(&report)[0], "call", "posix.system", Some(322)), "{report:#}");
    assert!(has(&files(&report)[0], "import", "posix.system", Some(313)));
}

/// Fitted scikit-learn models (tests/fixtures/scan/, made by `scan_corpus.py sklearn` with
/// scikit-learn 1.9.1), by pickle and by joblib: safe under the sklearn preset with numpy's
/// and joblib's, unknown without it.
#[test]
fn sklearn_models_are_safe_under_their_preset() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scan");
    let models: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("sklearn_"))
        .map(|p| p.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(models.len(), 10);
    let args = |policy: &'static str| {
        [&["--policy", policy][..], &models.iter().map(String::as_str).collect::<Vec<_>>()].concat()
    };
    let (code, report) = scan(&args("stdlib,numpy,joblib,sklearn"));
    assert_eq!(code, 0, "{report:#}");
    assert!(files(&report).iter().all(|f| f["verdict"] == "safe" && f["error"].is_null()));
    let (code, report) = scan(&args("stdlib,numpy,joblib"));
    assert_eq!(code, 1);
    assert!(files(&report).iter().all(|f| f["verdict"] == "unknown"));
}
