//! The real numpy for the numpy interop tests: numpy 2.x in `target/pyenv` and 1.x in
//! `target/pyenv-numpy1` (which `.ci/run` makes), asked through `tests/common/numpy_side.py`
//! (not `numpy.py`: the script's directory comes first on `sys.path`, and it would import
//! itself as numpy).
//!
//! Without numpy there, a test fails when `CI=true` and otherwise says loudly that it is
//! skipped, as the CPython interop tests do without `python3`.

use std::process::Command;

use serde_json::{json, Value as Json};

use super::{ask_python, hex_decode, hex_encode};

/// The interpreter of numpy 2.x.
pub const NUMPY2: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/target/pyenv/bin/python");
/// The interpreter of numpy 1.x, whose pickles name `numpy.core`, not `numpy._core`.
pub const NUMPY1: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/target/pyenv-numpy1/bin/python");
const NUMPY_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/common/numpy_side.py");

/// Whether numpy imports for the interpreter `python` ([`NUMPY2`], [`NUMPY1`]). Panics when
/// it does not and `CI=true`; otherwise says loudly that the calling test is skipped.
pub fn numpy_available(python: &str, test: &str) -> bool {
    let ok = Command::new(python).args(["-c", "import numpy"]).status().is_ok_and(|s| s.success());
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{test}: numpy in {python} is required when CI=true (.ci/run installs it)");
        }
        eprintln!(
            "\n*** SKIPPED {test}: no numpy in {python}; numpy interop is NOT tested (run .ci/run to install it) ***\n"
        );
    }
    ok
}

/// What numpy says of one array: `dtype.str`, shape, `is_fortran`, `tobytes(order='A')` and
/// `pickle.dumps` at protocols 0 to 5.
pub struct NumpyArray {
    pub descr: String,
    pub shape: Vec<usize>,
    pub fortran: bool,
    pub data: Vec<u8>,
    pub pickles: Vec<Vec<u8>>,
}

/// Runs each code (which binds `value` to an array) in numpy and answers what it says.
pub fn numpy_arrays(python: &str, codes: &[String]) -> Vec<NumpyArray> {
    let reply = ask_python(python, NUMPY_SCRIPT, &json!({"op": "arrays", "cases": codes}));
    reply.as_array().unwrap().iter().map(numpy_array).collect()
}

/// `pickle.dumps(value, p)` at protocols 0 to 5 in numpy, for each code (which binds `value`).
pub fn numpy_dumps(python: &str, codes: &[String]) -> Vec<Vec<Vec<u8>>> {
    let reply = ask_python(python, NUMPY_SCRIPT, &json!({"op": "dumps", "cases": codes}));
    let hex = |j: &Json| hex_decode(j.as_str().unwrap());
    reply.as_array().unwrap().iter().map(|per| per.as_array().unwrap().iter().map(hex).collect()).collect()
}

/// `pickle.dumps(value, 5, buffer_callback=...)` in numpy with every buffer out of band, for
/// each code (which binds `value`): the pickle and the buffers.
pub fn numpy_out_of_band(python: &str, codes: &[String]) -> Vec<(Vec<u8>, Vec<Vec<u8>>)> {
    let reply = ask_python(python, NUMPY_SCRIPT, &json!({"op": "out_of_band", "cases": codes}));
    let hex = |j: &Json| hex_decode(j.as_str().unwrap());
    let each = |j: &Json| (hex(&j["pickle"]), j["buffers"].as_array().unwrap().iter().map(hex).collect());
    reply.as_array().unwrap().iter().map(each).collect()
}

fn numpy_array(j: &Json) -> NumpyArray {
    let hex = |j: &Json| hex_decode(j.as_str().unwrap());
    NumpyArray {
        descr: j["descr"].as_str().unwrap().to_owned(),
        shape: j["shape"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect(),
        fortran: j["fortran"].as_bool().unwrap(),
        data: hex(&j["data"]),
        pickles: j["pickles"].as_array().unwrap().iter().map(hex).collect(),
    }
}

/// One pickle for numpy to load: the code binding the array it should be, the protocol, the
/// pickle.
pub type Check = (String, u8, Vec<u8>);

/// Loads each pickle with numpy and compares it with the array its code binds and with what
/// numpy loads from its own pickle of that array at that protocol: `Ok` when equal with the
/// same dtype, shape and order, else what differs.
pub fn numpy_check(python: &str, cases: &[Check]) -> Vec<Result<(), String>> {
    let cases: Vec<Json> = cases
        .iter()
        .map(|(code, protocol, p)| json!({"code": code, "protocol": protocol, "pickle": hex_encode(p)}))
        .collect();
    let reply = ask_python(python, NUMPY_SCRIPT, &json!({"op": "check", "cases": cases}));
    reply.as_array().unwrap().iter().map(|j| j.as_str().map_or(Ok(()), |e| Err(e.to_owned()))).collect()
}
