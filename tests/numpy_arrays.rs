//! `pickle_core::numpy::NdArray` (feature `numpy`) against the real numpy, 2.x of
//! `target/pyenv` and 1.x of `target/pyenv-numpy1`: what numpy pickles at every protocol
//! loads into an `NdArray` with numpy's own dtype, shape, order and data; an `NdArray`
//! pickles to numpy's bytes, byte for byte, with either's names, and numpy loads it back to
//! an equal array; and a pickle that lies about its array is a typed error.

mod common;

use common::hex_encode;
use common::numpy::{
    numpy_arrays, numpy_available, numpy_check, numpy_dumps, numpy_out_of_band, NumpyArray, NUMPY1, NUMPY2,
};
use pickle_core::numpy::{Dtype, Names, NdArray};
use pickle_core::{
    dumps, loads, loads_with, Arg, Bytes, Call, GlobalName, Reduce, Reduction, Result, Unpickler, UnpicklerOptions,
    Value,
};

/// Arrays of every numeric dtype, both byte orders, 0 to 3 dimensions, C and Fortran order,
/// empty ones, and data that is one of CPython's shared bytes objects (`b''`, `b'b'`).
const ARRAYS: &[&str] = &[
    "value = np.arange(3.0)",
    "value = np.array(5, dtype='>i4')",
    "value = np.array(-7, dtype='<i8')",
    "value = np.array([True, False, True])",
    "value = np.arange(-3, 3, dtype='i1')",
    "value = np.array([0, 255, 98], dtype='u1')",
    "value = np.array([98], dtype='u1')",
    "value = np.array([], dtype='f8')",
    "value = np.zeros((0, 3), dtype='c8')",
    "value = np.zeros((2, 0), dtype='>f4', order='F')",
    "value = np.arange(6, dtype='>u2').reshape(2, 3)",
    "value = np.arange(6, dtype='<i2').reshape(2, 3, order='F')",
    "value = np.asfortranarray(np.arange(12, dtype='>f4').reshape(3, 4))",
    "value = np.ones((1, 5), order='F')",
    "value = np.arange(24, dtype='u4').reshape(2, 3, 4)",
    "value = np.asfortranarray(np.arange(24, dtype='>i8').reshape(2, 3, 4))",
    "value = np.array([2**64 - 1, 0, 12345], dtype='>u8')",
    "value = np.array([1 + 2j, -0.5j], dtype='>c16')",
    "value = np.array([1 + 2j, float('nan')], dtype='<c8')",
    "value = np.arange(4, dtype='f2')",
    "value = np.arange(4, dtype='>f2')",
    "value = np.array([np.nan, -np.inf, -0.0, 1e300])",
    "value = np.arange(20000, dtype='>f8')",
    "value = np.array(['2020-01-01', 'NaT', '1969-12-31'], dtype='M8[D]')",
    "value = np.array([1, -2, 3], dtype='>m8[25s]')",
    "value = np.array(['2024-02-29T12:00:00.123456789'], dtype='<M8[ns]')",
    "value = np.array([0, 1], dtype='m8')",
    "value = np.array([5], dtype='>M8[3Y]').reshape(1, 1)",
    "value = np.asfortranarray(np.arange(6, dtype='m8[us]').reshape(2, 3))",
    "value = np.array([1], dtype='M8[s]')",
];

/// The `NdArray` of what numpy says of an array, built from those facts (not from a pickle).
fn built(numpy: &NumpyArray) -> NdArray {
    let dtype = Dtype::from_descr(&numpy.descr).unwrap();
    NdArray::new(dtype, numpy.shape.clone(), numpy.fortran, numpy.data.clone()).unwrap()
}

/// Every array of [`ARRAYS`] that numpy (`python`) pickles at protocols 0 to 5 loads with
/// numpy's dtype, shape, order and data, remembering `names`.
fn numpy_pickles_load(python: &str, names: Names) {
    let codes: Vec<String> = ARRAYS.iter().map(|&c| c.to_owned()).collect();
    for (code, numpy) in codes.iter().zip(numpy_arrays(python, &codes)) {
        for (p, pickle) in numpy.pickles.iter().enumerate() {
            let array: NdArray = loads(pickle).unwrap_or_else(|e| panic!("{code} at protocol {p}: {e}"));
            let at = format!("{code} at protocol {p}");
            assert_eq!(array.descr(), numpy.descr, "{at}");
            assert_eq!(array.shape(), numpy.shape, "{at}");
            assert_eq!(array.is_fortran(), numpy.fortran, "{at}");
            assert_eq!(array.data(), Some(&numpy.data[..]), "{at}");
            assert_eq!(array, built(&numpy).with_names(names), "{at}");
        }
    }
}

/// Every array of [`ARRAYS`], built from what numpy (`python`) says of it, pickles with
/// `names` to numpy's bytes at protocols 0 to 5, and numpy loads them back.
fn ndarray_pickles_as(python: &str, names: Names) {
    let codes: Vec<String> = ARRAYS.iter().map(|&c| c.to_owned()).collect();
    let mut ours = Vec::new();
    for (code, numpy) in codes.iter().zip(numpy_arrays(python, &codes)) {
        let array = built(&numpy).with_names(names);
        for (p, theirs) in numpy.pickles.iter().enumerate() {
            let mine = dumps(&array, p as u8).unwrap();
            assert!(
                mine == *theirs,
                "{code} at protocol {p}:\nours:  {}\nnumpy: {}",
                hex_encode(&mine),
                hex_encode(theirs)
            );
            ours.push((code.clone(), p as u8, mine));
        }
    }
    for ((code, p, _), verdict) in ours.iter().zip(numpy_check(python, &ours)) {
        verdict.unwrap_or_else(|e| panic!("{code} at protocol {p}: {e}"));
    }
}

#[test]
fn numpy_pickles_load_at_every_protocol() {
    if numpy_available(NUMPY2, "numpy_pickles_load_at_every_protocol") {
        numpy_pickles_load(NUMPY2, Names::Numpy2);
    }
}

#[test]
fn ndarray_pickles_as_numpy_does() {
    if numpy_available(NUMPY2, "ndarray_pickles_as_numpy_does") {
        ndarray_pickles_as(NUMPY2, Names::Numpy2);
    }
}

#[test]
fn numpy1_pickles_load_at_every_protocol() {
    if numpy_available(NUMPY1, "numpy1_pickles_load_at_every_protocol") {
        numpy_pickles_load(NUMPY1, Names::Numpy1);
    }
}

#[test]
fn ndarray_with_numpy1_names_pickles_as_numpy1_does() {
    if numpy_available(NUMPY1, "ndarray_with_numpy1_names_pickles_as_numpy1_does") {
        ndarray_pickles_as(NUMPY1, Names::Numpy1);
    }
}

/// Arrays in one list: numpy's dtypes of the machine's byte order are one object each, so the
/// second array of one refers to the first's dtype (a memo GET); other orders do not share.
#[test]
fn arrays_of_one_dtype_share_it_as_numpy_does() {
    if !numpy_available(NUMPY2, "arrays_of_one_dtype_share_it_as_numpy_does") {
        return;
    }
    let parts = ["np.arange(2.0)", "np.arange(3, dtype='>f8')", "np.ones((2, 2))", "np.zeros(2, dtype='>f8')"];
    let more = ["np.array([True])", "np.array(7, dtype='i1')", "np.array([False, True])", "np.zeros(1, dtype='M8[s]')"];
    let parts = [&parts[..], &more, &["np.zeros(2, dtype='M8[s]')"]].concat();
    let singles: Vec<String> = parts.iter().map(|p| format!("value = {p}")).collect();
    let arrays: Vec<NdArray> = numpy_arrays(NUMPY2, &singles).iter().map(built).collect();
    let list = format!("value = [{}]", parts.join(", "));
    let theirs = numpy_dumps(NUMPY2, &[list]).pop().unwrap();
    for (p, theirs) in theirs.iter().enumerate() {
        let mine = dumps(&arrays, p as u8).unwrap();
        assert!(mine == *theirs, "protocol {p}:\nours:  {}\nnumpy: {}", hex_encode(&mine), hex_encode(theirs));
        assert_eq!(loads::<Vec<NdArray>>(theirs).unwrap(), arrays, "protocol {p}");
    }
}

/// With `builtin_reductions` off, the data of protocols 0 to 2 stays a call of
/// `_codecs.encode`, which loads all the same.
#[test]
fn data_through_codecs_encode_loads_as_an_object_too() {
    if !numpy_available(NUMPY2, "data_through_codecs_encode_loads_as_an_object_too") {
        return;
    }
    let code = "value = np.array([1.5, -2.0, 255.0], dtype='>f4')".to_owned();
    let numpy = numpy_arrays(NUMPY2, &[code]).pop().unwrap();
    let options = UnpicklerOptions { builtin_reductions: false, ..UnpicklerOptions::default() };
    for pickle in &numpy.pickles[..3] {
        assert_eq!(loads_with::<NdArray>(pickle, &options).unwrap(), built(&numpy));
    }
}

/// A dtype on its own pickles as numpy pickles it, and loads from numpy's pickle.
#[test]
fn dtypes_pickle_as_numpy_does() {
    if !numpy_available(NUMPY2, "dtypes_pickle_as_numpy_does") {
        return;
    }
    let descrs = ["<f8", ">f8", "|b1", "|u1", ">i2", "<c16", "<f2", "<M8[ns]", ">m8[25s]", "<M8"];
    let codes: Vec<String> = descrs.iter().map(|d| format!("value = np.dtype('{d}')")).collect();
    for (descr, theirs) in descrs.iter().zip(numpy_dumps(NUMPY2, &codes)) {
        let dtype = Dtype::from_descr(descr).unwrap();
        for (p, theirs) in theirs.iter().enumerate() {
            assert_eq!(dumps(&dtype, p as u8).unwrap(), *theirs, "{descr} at protocol {p}");
            assert_eq!(loads::<Dtype>(theirs).unwrap(), dtype, "{descr} at protocol {p}");
        }
    }
}

/// At protocol 5 with a `buffer_callback`, numpy writes the data out of band (NEXT_BUFFER,
/// and READONLY_BUFFER for a read-only array): given the buffers, it loads.
#[test]
fn out_of_band_buffers_load() {
    if !numpy_available(NUMPY2, "out_of_band_buffers_load") {
        return;
    }
    let codes = [
        "value = np.arange(6, dtype='>i4').reshape(2, 3, order='F')",
        "value = np.frombuffer(b'abcdefgh', dtype='<u2')",
        "value = np.zeros(0, dtype='c8')",
    ];
    let codes: Vec<String> = codes.iter().map(|&c| c.to_owned()).collect();
    let facts = numpy_arrays(NUMPY2, &codes);
    for ((code, (pickle, buffers)), numpy) in codes.iter().zip(numpy_out_of_band(NUMPY2, &codes)).zip(&facts) {
        assert_eq!(buffers.len(), 1, "{code}: one buffer out of band");
        let buffers = buffers.into_iter().map(Value::ByteArray);
        let array: NdArray = Unpickler::from_slice(&pickle).buffers(buffers).load().unwrap();
        assert_eq!(array, built(numpy), "{code}");
        let without = loads::<NdArray>(&pickle).expect_err("no buffers given");
        assert!(without.to_string().contains("out-of-band"), "{code}: {without}");
    }
}

// ----- bad input -----

/// The dtype numpy writes for `obj` and `byteorder`, with state `names` and a datetime unit
/// item that may lie.
struct FakeDtype {
    obj: &'static str,
    byteorder: &'static str,
    names: Option<(&'static str,)>,
    unit: Option<Value>,
}

impl Reduce for FakeDtype {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        let state = match &self.unit {
            None => Arg::owned((3, self.byteorder, None::<i64>, self.names, None::<i64>, -1, -1, 0)),
            Some(unit) => Arg::owned((4, self.byteorder, None::<i64>, self.names, None::<i64>, -1, -1, 0, unit)),
        };
        let call = Call::new(GlobalName::new("numpy", "dtype"), (self.obj, false, true));
        Ok(call.state(state).into())
    }
}

fn dtype(obj: &'static str, byteorder: &'static str) -> FakeDtype {
    FakeDtype { obj, byteorder, names: None, unit: None }
}

/// A `datetime64[...]` dtype whose unit item is `({metadata}, (unit, count, den, 1))`.
fn datetime(metadata: Vec<(Value, Value)>, unit: &[u8], count: i64, den: i64) -> FakeDtype {
    let unit = Value::Tuple(vec![Value::Bytes(unit.to_vec()), Value::Int(count), Value::Int(den), Value::Int(1)]);
    FakeDtype { unit: Some(Value::Tuple(vec![Value::Dict(metadata), unit])), ..dtype("M8", "<") }
}

/// numpy's array reduction with parts that may lie: any shape, dtype, class and data.
struct FakeArray<S> {
    class: &'static str,
    shape: S,
    dtype: FakeDtype,
    data: Vec<u8>,
}

impl<S: Reduce> Reduce for FakeArray<S> {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        let args = (GlobalName::new("numpy", self.class), (0,), Bytes(&b"b"[..]));
        let state = (1, &self.shape, &self.dtype, false, Bytes(&self.data[..]));
        let call = Call::new(GlobalName::new("numpy._core.multiarray", "_reconstruct"), args);
        Ok(call.state(Arg::owned(state)).into())
    }
}

fn fake<S: Reduce>(shape: S, dtype: FakeDtype, data: Vec<u8>) -> FakeArray<S> {
    FakeArray { class: "ndarray", shape, dtype, data }
}

/// Loading `fake` at every protocol is an error whose message says `what`.
fn refused<S: Reduce>(fake: &FakeArray<S>, what: &str) {
    for p in 0..=5 {
        let error = loads::<NdArray>(&dumps(fake, p).unwrap()).expect_err(what);
        assert!(error.to_string().contains(what), "protocol {p}: {error} does not say {what:?}");
        assert!(error.offset().is_some(), "protocol {p}: {error} has no offset");
    }
}

#[test]
fn a_size_the_data_does_not_pay_for_is_an_error() {
    refused(&fake((3,), dtype("f8", "<"), vec![0; 16]), "does not fit 16 bytes");
    refused(&fake((1usize << 62, 1usize << 62), dtype("f8", "<"), vec![]), "does not fit 0 bytes");
    refused(&fake((usize::MAX,), dtype("f8", "<"), vec![0; 8]), "does not fit 8 bytes");
    refused(&fake(Value::Tuple(vec![Value::Int(1); 65]), dtype("f8", "<"), vec![0; 8]), "at most 64");
}

/// numpy's pickles cut short anywhere, or with any one byte changed, load or fail with a
/// typed error: never a panic.
#[test]
fn damaged_numpy_pickles_never_panic() {
    if !numpy_available(NUMPY2, "damaged_numpy_pickles_never_panic") {
        return;
    }
    let codes = ["value = np.arange(3, dtype='>i2').reshape(1, 3)", "value = np.array([1], dtype='M8[25s]')"];
    let codes: Vec<String> = codes.iter().map(|&c| c.to_owned()).collect();
    for numpy in numpy_arrays(NUMPY2, &codes) {
        for pickle in &numpy.pickles {
            for end in 0..pickle.len() {
                assert!(loads::<NdArray>(&pickle[..end]).is_err());
            }
            let changes: [fn(u8) -> u8; 4] = [|_| 0, |_| 0xff, |b| b ^ 1, |b| b ^ 0x80];
            for (at, change) in (0..pickle.len()).flat_map(|at| changes.map(|c| (at, c))) {
                let mut damaged = pickle.clone();
                damaged[at] = change(damaged[at]);
                let _ = loads::<NdArray>(&damaged);
            }
        }
    }
}

#[test]
fn numpy_refuses_the_same_lie() {
    if !numpy_available(NUMPY2, "numpy_refuses_the_same_lie") {
        return;
    }
    let lie = dumps(&fake((3,), dtype("f8", "<"), vec![0; 16]), 4).unwrap();
    let verdict = numpy_check(NUMPY2, &[("value = np.zeros(3)".to_owned(), 4, lie)]).pop().unwrap();
    assert!(verdict.unwrap_err().contains("cannot load"));
}

#[test]
fn what_ndarray_cannot_hold_is_an_error() {
    refused(&fake((-1,), dtype("f8", "<"), vec![]), "");
    refused(&fake((2,), dtype("O8", "|"), vec![0; 16]), "not a numeric numpy dtype");
    refused(&fake((1,), dtype("U3", "<"), vec![0; 12]), "not a numeric numpy dtype");
    refused(&fake((1,), dtype("i3", "<"), vec![0; 3]), "numpy has no dtype `i3`");
    let structured = FakeDtype { names: Some(("x",)), ..dtype("V8", "|") };
    refused(&fake((1,), structured, vec![0; 8]), "structured numpy dtypes");
    assert!(loads::<NdArray>(&dumps(&fake((1,), datetime(vec![], b"ns", 1, 1), vec![0; 8]), 2).unwrap()).is_ok());
    let metadata = vec![(Value::Int(1), Value::Int(2))];
    refused(&fake((1,), datetime(metadata, b"ns", 1, 1), vec![0; 8]), "metadata is not supported");
    refused(&fake((1,), datetime(vec![], b"ns", 1, 3), vec![0; 8]), "denominator");
    refused(&fake((1,), datetime(vec![], b"xs", 1, 1), vec![0; 8]), "no such datetime unit");
    refused(&fake((1,), datetime(vec![], b"s", 0, 1), vec![0; 8]), "no datetime unit 0 times s");
    refused(&fake((1,), datetime(vec![], b"generic", 2, 1), vec![0; 8]), "no datetime unit 2 times generic");
    refused(&FakeArray { class: "matrix", shape: (1,), dtype: dtype("f8", "<"), data: vec![0; 8] }, "numpy.ndarray");
}

#[test]
fn new_checks_the_size_of_the_data() {
    let f8 = Dtype::from_descr("<f8").unwrap();
    assert!(NdArray::new(f8, vec![2, 2], false, vec![0; 32]).is_ok());
    assert!(NdArray::new(f8, vec![2, 2], false, vec![0; 31]).is_err());
    assert!(NdArray::new(f8, vec![usize::MAX, 2], false, vec![]).is_err());
    assert!(!NdArray::new(f8, vec![1, 4], true, vec![0; 32]).unwrap().is_fortran());
    assert!(NdArray::new(f8, vec![2, 2], true, vec![0; 32]).unwrap().is_fortran());
    assert_eq!(Dtype::from_descr(">i1").unwrap().descr(), "|i1");
    assert!(Dtype::from_descr("<f3").is_err());
    assert_eq!(Dtype::from_descr(">m8[25s]").unwrap().descr(), ">m8[25s]");
    assert_eq!(Dtype::from_descr("<M8").unwrap().descr(), "<M8");
    for bad in ["<M8[0s]", "<M8[s", "<M8[3generic]", "<f8[s]", "<M8[2147483648s]", "<M4[s]"] {
        assert!(Dtype::from_descr(bad).is_err(), "{bad}");
    }
}
