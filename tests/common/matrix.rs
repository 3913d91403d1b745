//! The builtin-value matrix both interop directions use: at least 150 named `Value`s
//! covering every opcode boundary, sharing, cycles and values larger than a frame.

use num_bigint::BigInt;
use pickle_core::{Shared, Value};

/// Builds the named values of the matrix.
struct Matrix(Vec<(String, Value)>);

impl Matrix {
    fn add(&mut self, name: impl Into<String>, v: impl Into<Value>) {
        self.0.push((name.into(), v.into()));
    }
}

fn big(s: &str) -> Value {
    Value::int(s.parse::<BigInt>().unwrap())
}

fn pow2(n: u32) -> BigInt {
    BigInt::from(1) << n
}

fn ints(m: &mut Matrix) {
    // Every boundary between BININT1, BININT2, BININT, LONG1 and LONG4 (and I/L at protocol 0).
    for i in [0i64, 1, 127, 128, 255, 256, 65535, 65536, -1, -128, -129, -255, -256, -257, -32768, -32769, -65536] {
        m.add(format!("int {i}"), i);
    }
    for i in [i32::MAX as i64, i32::MAX as i64 + 1, i32::MIN as i64, i32::MIN as i64 - 1, 1 << 32, i64::MAX, i64::MIN] {
        m.add(format!("int {i}"), i);
    }
    for (name, v) in [
        ("2**63", pow2(63)),
        ("2**64", pow2(64)),
        ("-2**64", -pow2(64)),
        ("2**100", pow2(100)),
        ("-2**100", -pow2(100)),
        ("2**2039 (255 bytes, LONG1)", pow2(2039) - 1),
        ("2**2040 (256 bytes, LONG4)", pow2(2040)),
        ("-2**2039 (LONG1 edge)", -pow2(2039)),
        ("-2**2039-1 (LONG4 edge)", -pow2(2039) - 1),
        ("2**20000", pow2(20000)),
    ] {
        m.add(format!("int {name}"), Value::int(v));
    }
    let digits_4300 = format!("9{}", "0".repeat(4299));
    m.add("int with 4300 digits", big(&digits_4300));
    m.add("int with 4301 digits (CPython refuses below protocol 2)", big(&format!("-{digits_4300}0")));
    m.add("True", true);
    m.add("False", false);
    m.add("None", Value::None);
}

fn floats(m: &mut Matrix) {
    let cases = [
        0.0,
        -0.0,
        1.0,
        -1.5,
        0.1,
        1.0 / 3.0,
        1e15,
        1e16,
        1e-4,
        1e-5,
        123456.789,
        1e22,
        1e100,
        -1e-300,
        9007199254740993.0,
        f64::MAX,
        f64::MIN_POSITIVE,
        5e-324,
        1e-310,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        std::f64::consts::PI,
    ];
    for f in cases {
        m.add(format!("float {f:e}"), f);
    }
    // Many floats at once, to hold protocol 0's repr to CPython's: a deterministic spread of
    // bit patterns over the whole range, normal and subnormal.
    let mut state = 0x2545F4914F6CDD1Du64;
    let spread: Vec<Value> = (0..400)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let f = f64::from_bits(state);
            Value::Float(if f.is_nan() { 0.5 } else { f })
        })
        .collect();
    m.add("400 floats of random bits", Value::List(spread));
    // -1149636667324797.25, exactly halfway between the two shortest reprs.
    m.add("a float halfway between two shortest reprs", f64::from_bits(0xC310_565A_94B4_E5F5));
}

fn strings(m: &mut Matrix) {
    for (name, s) in [
        ("empty", String::new()),
        ("one ASCII char (a CPython singleton)", "a".into()),
        ("one Latin-1 char (a CPython singleton)", "é".into()),
        ("one BMP char (not a singleton)", "€".into()),
        ("ascii", "hello world".into()),
        ("255 bytes", "x".repeat(255)),
        ("256 bytes", "x".repeat(256)),
        ("non-ASCII", "naïve café, 日本語".into()),
        ("astral", "🐍 snake 𝄞".into()),
        ("backslashes", "a\\b\\\\c\\u0041".into()),
        ("newlines", "line1\nline2\r\nend".into()),
        ("DOS EOF", "before\x1aafter".into()),
        ("NUL", "a\0b".into()),
        ("quotes", "it's \"quoted\"".into()),
        ("all Latin-1", (0u8..=255).map(char::from).collect()),
        ("70000 bytes (unframed)", "y".repeat(70_000)),
    ] {
        m.add(format!("str {name}"), s);
    }
    let surrogate = pickle_core::PyString::from_code_points([0x61, 0xDCFF, 0x62]).unwrap();
    m.add("str with a lone surrogate", Value::Str(surrogate));
    let pair = pickle_core::PyString::from_code_points([0xD83D, 0xDC0D]).unwrap();
    m.add("str with a surrogate pair as two code points", Value::Str(pair));
}

fn bytes(m: &mut Matrix) {
    for (name, b) in [
        ("empty", vec![]),
        ("one byte (a CPython singleton)", b"a".to_vec()),
        ("NUL byte", vec![0]),
        ("0xff", vec![0xff]),
        ("short", b"abc".to_vec()),
        ("255", vec![7; 255]),
        ("256", vec![7; 256]),
        ("all values", (0u8..=255).collect()),
        ("70000 (unframed)", vec![0xAB; 70_000]),
    ] {
        m.add(format!("bytes {name}"), Value::bytes(b.clone()));
        m.add(format!("bytearray {name}"), Value::bytearray(b));
    }
}

fn containers(m: &mut Matrix) {
    m.add("tuple ()", Value::tuple(Vec::<Value>::new()));
    m.add("tuple (1,)", Value::tuple([1]));
    m.add("tuple (1, 2)", Value::tuple([1, 2]));
    m.add("tuple (1, 2, 3)", Value::tuple([1, 2, 3]));
    m.add("tuple of 4", Value::tuple([1, 2, 3, 4]));
    m.add(
        "tuple of 12 mixed",
        Value::tuple((0..12).map(|i| if i % 2 == 0 { Value::from(i) } else { Value::from(format!("s{i}")) })),
    );
    m.add("tuple ((),)", Value::tuple([Value::tuple(Vec::<Value>::new())]));
    m.add("list []", Value::list(Vec::<Value>::new()));
    m.add("list [1]", Value::list([1]));
    m.add("list [1, 2]", Value::list([1, 2]));
    m.add("list [[]]", Value::list([Value::list(Vec::<Value>::new())]));
    for n in [999usize, 1000, 1001, 2000, 2001, 3500] {
        m.add(format!("list of {n} ints"), Value::list(0..n as i64));
        m.add(format!("dict of {n} int pairs"), Value::dict((0..n as i64).map(|i| (i, -i))));
        m.add(format!("set of {n} ints"), Value::set(0..n as i64));
    }
    m.add("dict {}", Value::dict(Vec::<(Value, Value)>::new()));
    m.add("dict one pair", Value::dict([("k", 1)]));
    m.add("dict str keys", Value::dict([("a", 1), ("b", 2), ("c", 3)]));
    m.add("dict float keys", Value::dict([(1.5, "x"), (-0.25, "y")]));
    m.add("dict tuple keys", Value::dict([(Value::tuple([1, 2]), "p"), (Value::tuple(["a"]), "q")]));
    m.add("dict None key", Value::dict([(Value::None, Value::from(1)), (Value::from(2), Value::None)]));
    m.add("dict bytes and big int keys", Value::dict([(Value::bytes(b"k".to_vec()), 1), (Value::int(pow2(70)), 2)]));
    m.add(
        "dict nested",
        Value::dict([("inner", Value::dict([("list", Value::list([1, 2])), ("t", Value::tuple(["x", "y"]))]))]),
    );
    m.add("set()", Value::set(Vec::<Value>::new()));
    m.add("set {1}", Value::set([1]));
    m.add("set {1, 2, 3}", Value::set([1, 2, 3]));
    m.add("set {None, True}", Value::set([Value::None]));
    m.add("frozenset()", Value::frozenset(Vec::<Value>::new()));
    m.add("frozenset {1, 2}", Value::frozenset([1, 2]));
    m.add("frozenset of 1500", Value::frozenset(0..1500));
    m.add("set of frozensets", Value::set([Value::frozenset([1]), Value::frozenset([2, 3])]));
    let mut deep = Value::from(0);
    for i in 0..150 {
        deep = if i % 3 == 0 {
            Value::list([deep])
        } else if i % 3 == 1 {
            Value::tuple([deep])
        } else {
            Value::dict([("d", deep)])
        };
    }
    m.add("150 levels of nesting", deep);
    m.add(
        "records",
        Value::list((0..50).map(|i| {
            Value::dict([
                ("id", Value::from(i)),
                ("name", Value::from(format!("user{i}"))),
                ("score", Value::from(i as f64 * 1.5)),
                ("tags", Value::list(["a", "bc"])),
                ("active", Value::from(i % 2 == 0)),
            ])
        })),
    );
}

fn globals(m: &mut Matrix) {
    for (module, name) in [
        ("collections", "OrderedDict"),
        ("builtins", "len"),
        ("builtins", "set"),
        ("builtins", "range"),
        ("copyreg", "_reconstructor"),
        ("_functools", "reduce"),
        ("decimal", "Decimal"),
        // Module and qualname equal: interned, so the qualname is a memo GET at protocol 4+.
        // (A C type such as datetime.datetime makes fresh name strings on every access, so
        // CPython writes both; Python-defined classes and functions, which the derive
        // mirrors, share them.)
        ("pprint", "pprint"),
        ("queue", "Queue.put"),
    ] {
        m.add(format!("global {module}.{name}"), Value::global(module, name));
    }
    m.add(
        "the same global twice",
        Value::list([Value::global("collections", "OrderedDict"), Value::global("collections", "OrderedDict")]),
    );
    m.add(
        "two globals of one module",
        Value::list([Value::global("collections", "OrderedDict"), Value::global("collections", "Counter")]),
    );
}

fn sharing(m: &mut Matrix) {
    let shared_list = Value::list([1, 2]).shared();
    m.add("a shared list twice", Value::list([shared_list.clone(), shared_list.clone()]));
    m.add(
        "a shared list in a tuple and a dict",
        Value::tuple([shared_list.clone(), Value::dict([("x", shared_list)])]),
    );
    let shared_str = Value::from("shared text").shared();
    m.add("a shared str three times", Value::list([shared_str.clone(), shared_str.clone(), shared_str]));
    let shared_tuple = Value::tuple([1, 2, 3, 4]).shared();
    m.add("a shared tuple", Value::list([shared_tuple.clone(), shared_tuple]));
    let shared_dict = Value::dict([("k", "v")]).shared();
    m.add("a shared dict as two values", Value::dict([("a", shared_dict.clone()), ("b", shared_dict)]));
    let shared_bytes = Value::bytes(b"blob".to_vec()).shared();
    m.add("shared bytes", Value::list([shared_bytes.clone(), shared_bytes]));
    let shared_set = Value::set([1]).shared();
    m.add("a shared set", Value::list([shared_set.clone(), shared_set]));
    let shared_fs = Value::frozenset([5]).shared();
    m.add("a shared frozenset", Value::list([shared_fs.clone(), shared_fs]));
    m.add("two equal strs, separate objects", Value::list(["twin", "twin"]));
    m.add("singleton strs repeat as GET", Value::list(["a", "a", "", "", "é", "é", "€", "€"]));
    m.add(
        "singleton bytes repeat as GET",
        Value::list(
            [b"".to_vec(), b"".to_vec(), b"z".to_vec(), b"z".to_vec(), b"zz".to_vec(), b"zz".to_vec()]
                .map(Value::bytes),
        ),
    );
    m.add(
        "bytes with a shared latin1 name below protocol 3",
        Value::list([b"ab".to_vec(), b"cd".to_vec()].map(Value::bytes)),
    );
    m.add(
        "bytearray and bytes of one byte",
        Value::list([Value::bytes(b"q".to_vec()), Value::bytearray(b"q".to_vec()), Value::bytes(b"q".to_vec())]),
    );

    // Cycles.
    let node = Shared::empty();
    node.set(Value::List(vec![Value::Cycle(node.downgrade())])).unwrap();
    m.add("a list that contains itself", Value::Shared(node));
    let node = Shared::empty();
    node.set(Value::Dict(vec![(Value::from("self"), Value::Cycle(node.downgrade()))])).unwrap();
    m.add("a dict that contains itself", Value::Shared(node));
    // t = ([],); t[0].append(t): CPython writes the tuple, finds it memoized, pops and GETs.
    for n in [1usize, 4] {
        let list = Shared::empty();
        let tuple = Shared::new(Value::Tuple(
            std::iter::once(Value::Shared(list.clone())).chain((1..n).map(|i| Value::from(i as i64))).collect(),
        ));
        list.set(Value::List(vec![Value::Shared(tuple.clone())])).unwrap();
        m.add(format!("a {n}-tuple inside its own list"), Value::Shared(tuple));
    }
    let list = Shared::empty();
    let fs = Shared::new(Value::FrozenSet(vec![Value::from(1)]));
    list.set(Value::List(vec![Value::Shared(fs.clone()), Value::Shared(list.clone())])).unwrap();
    m.add("a list holding a frozenset and itself", Value::Shared(list));
}

fn large(m: &mut Matrix) {
    m.add("20000 short strs (many frames)", Value::list((0..20_000).map(|i| format!("item-{i}"))));
    m.add(
        "big payloads between small values",
        Value::list([
            Value::from(1),
            Value::bytes(vec![1; 70_000]),
            Value::from("after"),
            Value::from("z".repeat(65_536)),
            Value::bytes(vec![2; 65_535]),
            Value::list([1, 2, 3]),
        ]),
    );
    m.add("a frame that ends near a batch boundary", Value::list((0..5000).map(|i| format!("{i:012}"))));
}

pub fn matrix() -> Vec<(String, Value)> {
    let mut m = Matrix(Vec::new());
    ints(&mut m);
    floats(&mut m);
    strings(&mut m);
    bytes(&mut m);
    containers(&mut m);
    globals(&mut m);
    sharing(&mut m);
    large(&mut m);
    m.0
}
