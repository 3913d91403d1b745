//! Verdicts: which names a pickle may use (allowlist presets and a user's TOML files) and
//! which are known to run code, touch files or reach the network (the denylist, each entry
//! with the reason a user should learn).
//!
//! It exists apart from the recorder because the evidence (what a pickle would import and
//! call, `pickle_core::scan`) is a fact, and what to allow is a choice. A name is judged by
//! its whole dotted path and every tail of it, so `numpy.testing._private.utils.os.system`
//! reached through `getattr` is `os.system` still.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::path::Path;

use pickle_core::scan::{Action, Arg, Found};
use serde::Deserialize;

/// How safe one finding is; a file's verdict is its worst.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    Safe,
    Unknown,
    Dangerous,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Safe => "safe",
            Verdict::Unknown => "unknown",
            Verdict::Dangerous => "dangerous",
        }
    }
}

/// Names known to be dangerous, with why: `module.name`, or `module.*` for all of a module.
const DANGEROUS: &[(&str, &str)] = &[
    ("builtins.eval", "evaluates Python code"),
    ("builtins.exec", "runs Python code"),
    ("builtins.compile", "compiles Python code to run"),
    ("builtins.open", "opens files for reading or writing"),
    ("builtins.__import__", "imports any module, a step to reach any function"),
    ("builtins.setattr", "changes attributes of any object"),
    ("builtins.delattr", "deletes attributes of any object"),
    ("builtins.globals", "exposes a module's namespace to change"),
    ("builtins.vars", "exposes an object's namespace to change"),
    ("builtins.input", "reads from the terminal"),
    ("builtins.breakpoint", "starts a debugger, which runs code"),
    ("builtins.exit", "stops the program"),
    ("builtins.quit", "stops the program"),
    ("__builtin__.*", "Python 2's builtins (eval, exec, open, __import__)"),
    ("os.*", "runs programs and changes files and processes (os.system, os.popen, os.exec*, os.remove)"),
    ("posix.*", "the C module behind os: runs programs and changes files (posix.system)"),
    ("nt.*", "the C module behind os on Windows: runs programs and changes files (nt.system)"),
    ("subprocess.*", "starts programs"),
    ("_posixsubprocess.*", "starts programs"),
    ("pty.*", "spawns a shell on a terminal"),
    ("runpy.*", "runs Python modules and files"),
    ("code.*", "runs Python code interactively"),
    ("codeop.*", "compiles Python code"),
    ("marshal.*", "loads code objects"),
    ("types.CodeType", "builds code objects"),
    ("types.FunctionType", "builds functions from code objects"),
    ("importlib.*", "imports any module, a step to reach any function"),
    ("pickle.*", "loads another pickle, which runs what it holds"),
    ("_pickle.*", "loads another pickle, which runs what it holds"),
    ("cPickle.*", "loads another pickle, which runs what it holds"),
    ("dill.*", "loads pickles that carry code"),
    ("cloudpickle.*", "loads pickles that carry code"),
    ("shelve.*", "opens pickled databases on disk"),
    ("joblib.load", "loads a pickle from a file"),
    ("torch.load", "loads a pickle, with weights_only off the whole of pickle"),
    ("torch.serialization.load", "loads a pickle, with weights_only off the whole of pickle"),
    ("numpy.load", "loads files, pickles among them with allow_pickle"),
    ("numpy.loads", "numpy's old name for pickle.loads"),
    ("numpy.testing._private.utils.runstring", "runs Python code"),
    ("socket.*", "opens network connections"),
    ("_socket.*", "opens network connections"),
    ("ssl.*", "opens network connections"),
    ("asyncio.*", "starts programs and network connections"),
    ("urllib.*", "reaches the network"),
    ("urllib2.*", "reaches the network"),
    ("http.*", "reaches the network"),
    ("httplib.*", "reaches the network"),
    ("ftplib.*", "reaches the network"),
    ("smtplib.*", "sends mail over the network"),
    ("telnetlib.*", "reaches the network"),
    ("requests.*", "reaches the network"),
    ("xmlrpc.*", "calls remote procedures over the network"),
    ("webbrowser.*", "opens URLs with external programs"),
    ("shutil.*", "copies, moves and deletes files"),
    ("tempfile.*", "creates files"),
    ("io.open", "opens files for reading or writing"),
    ("io.FileIO", "opens files for reading or writing"),
    ("_io.open", "opens files for reading or writing"),
    ("_io.FileIO", "opens files for reading or writing"),
    ("pathlib.Path.write_text", "writes files"),
    ("pathlib.Path.write_bytes", "writes files"),
    ("pathlib.Path.unlink", "deletes files"),
    ("fileinput.*", "reads files"),
    ("linecache.*", "reads files"),
    ("glob.*", "lists files"),
    ("ctypes.*", "calls native code and writes memory"),
    ("_ctypes.*", "calls native code and writes memory"),
    ("sys.*", "changes the interpreter (sys.modules, sys.path, sys.settrace)"),
    ("signal.*", "changes signal handlers and sends signals"),
    ("multiprocessing.*", "starts processes"),
    ("threading.*", "starts threads running code"),
    ("_thread.*", "starts threads running code"),
    ("operator.attrgetter", "reaches any attribute by name"),
    ("operator.methodcaller", "calls any method by name"),
    ("_operator.attrgetter", "reaches any attribute by name"),
    ("_operator.methodcaller", "calls any method by name"),
    ("pdb.*", "runs a debugger, which runs code"),
    ("bdb.*", "runs a debugger, which runs code"),
    ("timeit.*", "runs Python code"),
    ("trace.*", "runs Python code"),
    ("profile.*", "runs Python code"),
    ("cProfile.*", "runs Python code"),
    ("doctest.*", "runs Python code"),
    ("zipimport.*", "imports code from archives"),
    ("site.*", "changes the import path"),
];

const STDLIB: &[&str] = &[
    "builtins.object",
    "builtins.set",
    "builtins.frozenset",
    "builtins.bytearray",
    "builtins.bytes",
    "builtins.list",
    "builtins.dict",
    "builtins.tuple",
    "builtins.int",
    "builtins.float",
    "builtins.complex",
    "builtins.str",
    "builtins.bool",
    "builtins.slice",
    "builtins.range",
    "builtins.getattr",
    "builtins.Ellipsis",
    "builtins.NotImplemented",
    "builtins.ArithmeticError",
    "builtins.AssertionError",
    "builtins.AttributeError",
    "builtins.Exception",
    "builtins.IndexError",
    "builtins.KeyError",
    "builtins.LookupError",
    "builtins.NotImplementedError",
    "builtins.OSError",
    "builtins.OverflowError",
    "builtins.RuntimeError",
    "builtins.StopIteration",
    "builtins.TypeError",
    "builtins.ValueError",
    "builtins.ZeroDivisionError",
    "copyreg._reconstructor",
    "copyreg.__newobj__",
    "copyreg.__newobj_ex__",
    "_codecs.encode",
    "collections.OrderedDict",
    "collections.defaultdict",
    "collections.deque",
    "collections.Counter",
    "datetime.datetime",
    "datetime.date",
    "datetime.time",
    "datetime.timedelta",
    "datetime.timezone",
    "zoneinfo.ZoneInfo._unpickle",
    "decimal.Decimal",
    "fractions.Fraction",
    "uuid.UUID",
    "uuid.SafeUUID",
    "ipaddress.IPv4Address",
    "ipaddress.IPv6Address",
    "ipaddress.IPv4Network",
    "ipaddress.IPv6Network",
    "ipaddress.IPv4Interface",
    "ipaddress.IPv6Interface",
    "pathlib.PurePosixPath",
    "pathlib.PureWindowsPath",
    "pathlib.PosixPath",
    "pathlib.WindowsPath",
    "array.array",
    "array._array_reconstructor",
    "re._compile",
    "enum.Enum",
    "types.SimpleNamespace",
    "argparse.Namespace",
    "time.struct_time",
    "calendar.IllegalMonthError",
];

const NUMPY: &[&str] = &[
    "numpy.ndarray",
    "numpy.dtype",
    "numpy.core.multiarray._reconstruct",
    "numpy.core.multiarray.scalar",
    "numpy.core.numeric._frombuffer",
    "numpy._core.multiarray._reconstruct",
    "numpy._core.multiarray.scalar",
    "numpy._core.numeric._frombuffer",
    "numpy.ma.core._mareconstruct",
    "numpy.ma.core.MaskedArray",
    "numpy.matrix",
    "numpy.matrixlib.defmatrix.matrix",
    "numpy.dtypes.*",
    "numpy.random._pickle.__randomstate_ctor",
    "numpy.random._pickle.__bit_generator_ctor",
    "numpy.random._pickle.__generator_ctor",
    "numpy.random._pickle._RandomState_ctor",
    "numpy.random.mtrand.RandomState",
    "numpy.random._generator.Generator",
    "numpy.random._mt19937.MT19937",
    "numpy.random._pcg64.PCG64",
    "numpy.random._pcg64.PCG64DXSM",
    "numpy.random._philox.Philox",
    "numpy.random._sfc64.SFC64",
    "numpy.random.bit_generator.SeedSequence",
    "numpy.bool_",
    "numpy.int8",
    "numpy.int16",
    "numpy.int32",
    "numpy.int64",
    "numpy.uint8",
    "numpy.uint16",
    "numpy.uint32",
    "numpy.uint64",
    "numpy.float16",
    "numpy.float32",
    "numpy.float64",
    "numpy.complex64",
    "numpy.complex128",
    "numpy.str_",
    "numpy.bytes_",
    "numpy.object_",
    "numpy.datetime64",
    "numpy.timedelta64",
];

/// What `torch.load(weights_only=True)` of torch 2.15 allows: its `_get_allowed_globals()`,
/// as torch itself listed it.
const TORCH_WEIGHTS_ONLY: &[&str] = &[
    "_codecs.encode",
    "builtins.bytearray",
    "builtins.complex",
    "builtins.set",
    "collections.Counter",
    "collections.OrderedDict",
    "torch.BFloat16Storage",
    "torch.BFloat16Tensor",
    "torch.BoolStorage",
    "torch.BoolTensor",
    "torch.ByteStorage",
    "torch.ByteTensor",
    "torch.CharStorage",
    "torch.CharTensor",
    "torch.ComplexDoubleStorage",
    "torch.ComplexFloatStorage",
    "torch.DoubleStorage",
    "torch.DoubleTensor",
    "torch.FloatStorage",
    "torch.FloatTensor",
    "torch.HalfStorage",
    "torch.HalfTensor",
    "torch.IntStorage",
    "torch.IntTensor",
    "torch.LongStorage",
    "torch.LongTensor",
    "torch.QInt32Storage",
    "torch.QInt8Storage",
    "torch.QUInt2x4Storage",
    "torch.QUInt4x2Storage",
    "torch.QUInt8Storage",
    "torch.ShortStorage",
    "torch.ShortTensor",
    "torch.Size",
    "torch.Tensor",
    "torch._tensor._rebuild_from_type_v2",
    "torch._utils._rebuild_device_tensor_from_cpu_tensor",
    "torch._utils._rebuild_device_tensor_from_numpy",
    "torch._utils._rebuild_meta_tensor_no_storage",
    "torch._utils._rebuild_parameter",
    "torch._utils._rebuild_parameter_with_state",
    "torch._utils._rebuild_qtensor",
    "torch._utils._rebuild_sparse_tensor",
    "torch._utils._rebuild_tensor",
    "torch._utils._rebuild_tensor_v2",
    "torch._utils._rebuild_tensor_v3",
    "torch._utils._rebuild_wrapper_subclass",
    "torch.bcomplex32",
    "torch.bfloat16",
    "torch.bits16",
    "torch.bits1x8",
    "torch.bits2x4",
    "torch.bits4x2",
    "torch.bits8",
    "torch.bool",
    "torch.complex128",
    "torch.complex32",
    "torch.complex64",
    "torch.cuda.BFloat16Storage",
    "torch.cuda.BFloat16Tensor",
    "torch.cuda.BoolStorage",
    "torch.cuda.BoolTensor",
    "torch.cuda.ByteStorage",
    "torch.cuda.ByteTensor",
    "torch.cuda.CharStorage",
    "torch.cuda.CharTensor",
    "torch.cuda.ComplexDoubleStorage",
    "torch.cuda.ComplexFloatStorage",
    "torch.cuda.DoubleStorage",
    "torch.cuda.DoubleTensor",
    "torch.cuda.FloatStorage",
    "torch.cuda.FloatTensor",
    "torch.cuda.HalfStorage",
    "torch.cuda.HalfTensor",
    "torch.cuda.IntStorage",
    "torch.cuda.IntTensor",
    "torch.cuda.LongStorage",
    "torch.cuda.LongTensor",
    "torch.cuda.ShortStorage",
    "torch.cuda.ShortTensor",
    "torch.cuda.sparse.BFloat16Tensor",
    "torch.cuda.sparse.ByteTensor",
    "torch.cuda.sparse.CharTensor",
    "torch.cuda.sparse.DoubleTensor",
    "torch.cuda.sparse.FloatTensor",
    "torch.cuda.sparse.HalfTensor",
    "torch.cuda.sparse.IntTensor",
    "torch.cuda.sparse.LongTensor",
    "torch.cuda.sparse.ShortTensor",
    "torch.device",
    "torch.float16",
    "torch.float32",
    "torch.float4_e2m1fn_x2",
    "torch.float64",
    "torch.float8_e4m3fn",
    "torch.float8_e4m3fnuz",
    "torch.float8_e5m2",
    "torch.float8_e5m2fnuz",
    "torch.float8_e8m0fnu",
    "torch.int1",
    "torch.int16",
    "torch.int2",
    "torch.int3",
    "torch.int32",
    "torch.int4",
    "torch.int5",
    "torch.int6",
    "torch.int64",
    "torch.int7",
    "torch.int8",
    "torch.nn.parameter.Parameter",
    "torch.per_channel_affine",
    "torch.per_channel_affine_float_qparams",
    "torch.per_channel_symmetric",
    "torch.per_tensor_affine",
    "torch.per_tensor_symmetric",
    "torch.qint32",
    "torch.qint8",
    "torch.quint2x4",
    "torch.quint4x2",
    "torch.quint8",
    "torch.serialization._get_layout",
    "torch.sparse.BFloat16Tensor",
    "torch.sparse.ByteTensor",
    "torch.sparse.CharTensor",
    "torch.sparse.DoubleTensor",
    "torch.sparse.FloatTensor",
    "torch.sparse.HalfTensor",
    "torch.sparse.IntTensor",
    "torch.sparse.LongTensor",
    "torch.sparse.ShortTensor",
    "torch.storage.TypedStorage",
    "torch.storage.UntypedStorage",
    "torch.uint1",
    "torch.uint16",
    "torch.uint2",
    "torch.uint3",
    "torch.uint32",
    "torch.uint4",
    "torch.uint5",
    "torch.uint6",
    "torch.uint64",
    "torch.uint7",
    "torch.uint8",
];

/// What joblib writes around the numpy arrays it stores inline (its arrays themselves are
/// numpy's: the `numpy` preset).
const JOBLIB: &[&str] = &[
    "joblib.numpy_pickle.NumpyArrayWrapper",
    "joblib.numpy_pickle.NDArrayWrapper",
    "joblib.numpy_pickle.ZNDArrayWrapper",
];

/// The packages of the `sklearn` preset, whose classes (not functions) it allows: a fitted
/// model pickles as its estimator classes, their `__dict__`, and numpy arrays.
const SKLEARN_PACKAGES: &[&str] = &["sklearn"];

/// The preset names `--policy` takes.
pub const PRESETS: &[&str] = &["stdlib", "numpy", "torch-weights-only", "joblib", "sklearn"];

/// Parts of a package path whose classes a class-wide allowance never covers: test helpers
/// (`sklearn.utils._testing.TempMemmap` writes files) and vendored code.
const NOT_CLASSES_OF_A_PACKAGE: &[&str] = &["_testing", "testing", "tests", "externals", "_build_utils"];

/// A user's TOML file: `allow = ["pkg.mod.Name", "pkg.*"]` and a `[dangerous]` table of
/// `"pkg.mod.name" = "why"`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserFile {
    #[serde(default)]
    allow: Vec<String>,
    /// Packages whose classes (CamelCase names, not functions) are all allowed.
    #[serde(default)]
    allow_classes_in: Vec<String>,
    #[serde(default)]
    dangerous: BTreeMap<String, String>,
}

/// A verdict and why.
type Judgement = (Verdict, String);

/// The allowlist and the denylist in force, and the verdicts given so far (a scan meets
/// the same few names again and again).
pub struct Policy {
    allowed: HashSet<String>,
    allowed_modules: Vec<String>,
    /// Packages whose classes are allowed: a last part in CamelCase, below the package.
    class_packages: Vec<String>,
    /// Denylist entries `mod.name` (the name and its attributes), by name, with the reason.
    dangerous_names: HashMap<String, String>,
    /// Denylist entries `mod.*` (everything in the module), by module, with the reason.
    dangerous_modules: HashMap<String, String>,
    judged: RefCell<HashMap<String, HashMap<String, Judgement>>>,
}

impl Policy {
    /// The policy of `--policy`: preset names and paths of TOML files, comma-separated.
    pub fn from_spec(spec: &str) -> Result<Policy, String> {
        let mut policy = Policy {
            allowed: HashSet::new(),
            allowed_modules: Vec::new(),
            class_packages: Vec::new(),
            dangerous_names: HashMap::new(),
            dangerous_modules: HashMap::new(),
            judged: RefCell::default(),
        };
        policy.deny(DANGEROUS.iter().map(|&(n, r)| (n.to_owned(), r.to_owned())));
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "stdlib" => policy.allow(STDLIB.iter().copied()),
                "numpy" => policy.allow(NUMPY.iter().copied()),
                "torch-weights-only" => policy.allow(TORCH_WEIGHTS_ONLY.iter().copied()),
                "joblib" => policy.allow(JOBLIB.iter().copied()),
                "sklearn" => policy.class_packages.extend(SKLEARN_PACKAGES.iter().map(|p| (*p).to_owned())),
                path => policy.load_file(Path::new(path))?,
            }
        }
        Ok(policy)
    }

    fn allow<'a>(&mut self, names: impl Iterator<Item = &'a str>) {
        for name in names {
            match name.strip_suffix(".*") {
                Some(module) => self.allowed_modules.push(module.to_owned()),
                None => drop(self.allowed.insert(name.to_owned())),
            }
        }
    }

    fn load_file(&mut self, path: &Path) -> Result<(), String> {
        let text = fs::read_to_string(path).map_err(|e| {
            format!("--policy: {:?} is no preset ({}) and can't be read as a TOML file: {e}", path, PRESETS.join(", "))
        })?;
        let file: UserFile = toml::from_str(&text).map_err(|e| format!("--policy: {}: {e}", path.display()))?;
        self.allow(file.allow.iter().map(String::as_str));
        self.class_packages.extend(file.allow_classes_in);
        self.deny(file.dangerous);
        Ok(())
    }

    fn deny(&mut self, entries: impl IntoIterator<Item = (String, String)>) {
        for (pattern, reason) in entries {
            let reason = format!("{pattern}: {reason}");
            match pattern.strip_suffix(".*") {
                Some(module) => self.dangerous_modules.insert(module.to_owned(), reason),
                None => self.dangerous_names.insert(pattern, reason),
            };
        }
    }

    /// The verdict on one finding, and why.
    pub fn judge(&self, found: &Found) -> (Verdict, String) {
        if found.action == Action::Mutate {
            let why = "sets attributes or items of a module-level object, which changes what later code does";
            return (Verdict::Dangerous, why.to_owned());
        }
        if found.module == "?" {
            return (Verdict::Unknown, "calls or changes an object the pickle built: what runs depends on it".into());
        }
        if found.action == Action::Extension && found.module == "copyreg._extension_registry" {
            let why = "an extension code: the loading program's registry decides what it names";
            return (Verdict::Unknown, why.into());
        }
        let by_name = self.judge_cached(&found.module, &found.name);
        match (by_name.0, found.action) {
            (Verdict::Safe, Action::Call) => match odd_arguments(found) {
                Some(why) => (Verdict::Unknown, why),
                None => by_name,
            },
            _ => by_name,
        }
    }

    fn judge_cached(&self, module: &str, name: &str) -> (Verdict, String) {
        if let Some(known) = self.judged.borrow().get(module).and_then(|names| names.get(name)) {
            return known.clone();
        }
        let verdict = self.judge_name(module, name);
        let mut judged = self.judged.borrow_mut();
        judged.entry(module.to_owned()).or_default().insert(name.to_owned(), verdict.clone());
        verdict
    }

    fn judge_name(&self, module: &str, name: &str) -> (Verdict, String) {
        let path = dotted(module, name);
        if let Some(reason) = self.danger(&path, module.len()) {
            return (Verdict::Dangerous, reason);
        }
        match self.is_allowed(&path) {
            true => (Verdict::Safe, "on the allowlist".into()),
            false => (Verdict::Unknown, "not on the allowlist".into()),
        }
    }

    fn is_allowed(&self, path: &str) -> bool {
        self.allowed.contains(path)
            || self.allowed_modules.iter().any(|m| path.strip_prefix(m.as_str()).is_some_and(|r| r.starts_with('.')))
            || self.class_packages.iter().any(|p| is_class_in(path, p))
    }

    /// The reason a denylist entry gives for `path`, or for a tail of it that starts in the
    /// qualname (past the module imported, `module_len` bytes): an attribute reached through
    /// a module that imported another, `numpy.testing._private.utils.os.system`. A tail of
    /// the module's own path is another module (`mylib.code` is not `code`).
    fn danger(&self, path: &str, module_len: usize) -> Option<String> {
        let in_name = path.char_indices().filter(|&(i, c)| c == '.' && i >= module_len).map(|(i, _)| i + 1);
        for start in std::iter::once(0).chain(in_name).take(64) {
            if let Some(reason) = self.danger_of(&path[start..]) {
                let via = if start > 0 { format!(" (reached as {path})") } else { String::new() };
                return Some(format!("{reason}{via}"));
            }
        }
        None
    }

    /// The denylist entry covering `tail`: `mod.name` for it or an attribute of it, `mod.*`
    /// for anything in `mod`.
    fn danger_of(&self, tail: &str) -> Option<&String> {
        let ends = tail.char_indices().filter(|&(_, c)| c == '.').map(|(i, _)| i).chain([tail.len()]);
        for end in ends {
            let prefix = &tail[..end];
            if let Some(reason) = self.dangerous_names.get(prefix) {
                return Some(reason);
            }
            if end < tail.len() {
                if let Some(reason) = self.dangerous_modules.get(prefix) {
                    return Some(reason);
                }
            }
        }
        None
    }
}

/// Whether `path` names a class of `package`: below it, not in its tests or vendored code,
/// and its last part CamelCase (`sklearn.tree._tree.Tree`, not `sklearn.datasets.fetch_openml`).
fn is_class_in(path: &str, package: &str) -> bool {
    let Some(rest) = path.strip_prefix(package).and_then(|r| r.strip_prefix('.')) else { return false };
    let parts: Vec<&str> = rest.split('.').collect();
    let last = parts[parts.len() - 1];
    let camel = last.starts_with(|c: char| c.is_ascii_uppercase()) && last.chars().any(|c| c.is_ascii_lowercase());
    camel && !parts.iter().any(|p| NOT_CLASSES_OF_A_PACKAGE.contains(p))
}

/// Why an allowed callable's arguments are not of the shape the presets know it called with,
/// if they are not: `_codecs.encode(text, 'latin1')` (any other codec runs another
/// transformation), `getattr(obj, 'name')`, `copyreg._reconstructor(cls, base, state)` with
/// a global for `cls` and `base`. The attributes `getattr` reaches are judged on their own.
fn odd_arguments(found: &Found) -> Option<String> {
    let args = found.args.as_slice();
    let fine = match (found.module.as_str(), found.name.as_str()) {
        ("_codecs", "encode") => {
            matches!(args, [Arg::Str(_), Arg::Str(codec)] if matches!(codec.as_str(), "latin1" | "latin-1" | "iso-8859-1"))
        }
        ("builtins", "getattr") => matches!(args, [_, Arg::Str(_)]),
        ("copyreg", "_reconstructor") => matches!(args, [Arg::Global(..), Arg::Global(..), _]),
        _ => true,
    };
    match fine {
        true => None,
        false => Some(format!("allowed, but not called with the arguments it is known for ({args:?})")),
    }
}

fn dotted(module: &str, name: &str) -> String {
    match name.is_empty() {
        true => module.to_owned(),
        false => format!("{module}.{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pickle_core::opcode::Opcode;

    fn found(module: &str, name: &str) -> Found {
        Found {
            action: Action::Call,
            module: module.into(),
            name: name.into(),
            offset: 0,
            opcode: Opcode::Reduce,
            nested_in: Vec::new(),
            args: Vec::new(),
        }
    }

    #[test]
    fn tails_of_a_path_are_judged() {
        let policy = Policy::from_spec("stdlib,numpy").unwrap();
        assert_eq!(policy.judge(&found("numpy.testing._private.utils", "os.system")).0, Verdict::Dangerous);
        assert_eq!(policy.judge(&found("posix", "system")).0, Verdict::Dangerous);
        assert_eq!(policy.judge(&found("collections", "OrderedDict")).0, Verdict::Safe);
        assert_eq!(policy.judge(&found("numpy.dtypes", "Float64DType")).0, Verdict::Safe);
        assert_eq!(policy.judge(&found("mylib", "Model")).0, Verdict::Unknown);
        // `osx` is not `os`, and a module `mylib.code` is not `code`.
        assert_eq!(policy.judge(&found("osx", "thing")).0, Verdict::Unknown);
        assert_eq!(policy.judge(&found("mylib.code", "Thing")).0, Verdict::Unknown);
        assert_eq!(policy.judge(&found("mylib", "code.interact")).0, Verdict::Dangerous);
    }

    #[test]
    fn a_package_preset_allows_its_classes_only() {
        let policy = Policy::from_spec("sklearn").unwrap();
        assert_eq!(policy.judge(&found("sklearn.tree._tree", "Tree")).0, Verdict::Safe);
        assert_eq!(policy.judge(&found("sklearn.datasets", "fetch_openml")).0, Verdict::Unknown);
        assert_eq!(policy.judge(&found("sklearn.utils._testing", "TempMemmap")).0, Verdict::Unknown);
        assert_eq!(policy.judge(&found("sklearnx", "Model")).0, Verdict::Unknown);
        assert_eq!(policy.judge(&found("sklearn.utils", "os.system")).0, Verdict::Dangerous);
    }

    #[test]
    fn known_callables_need_their_known_arguments() {
        let policy = Policy::from_spec("stdlib").unwrap();
        let encode = |codec: &str| Found {
            args: vec![Arg::Str("x".into()), Arg::Str(codec.into())],
            ..found("_codecs", "encode")
        };
        assert_eq!(policy.judge(&encode("latin1")).0, Verdict::Safe);
        assert_eq!(policy.judge(&encode("rot13")).0, Verdict::Unknown);
    }
}
