//! The encoder's behaviour beyond byte equality: streaming, limits and refusals.

use pickle_core::ser::ItemSink;
use pickle_core::{
    dumps, Builtin, Call, ErrorKind, GlobalName, Pickler, Reduce, Reduction, Result, Sequence, Shared, Value,
};

fn sample_values() -> Vec<Value> {
    vec![
        Value::list((0..30_000).map(|i| format!("entry number {i}"))),
        Value::list([Value::bytes(vec![1; 100_000]), Value::from("tail"), Value::from("x".repeat(70_000))]),
        Value::dict((0..3000).map(|i| (i, Value::tuple([i, i + 1])))),
        Value::from(1),
    ]
}

#[test]
fn streaming_to_a_writer_gives_the_same_bytes_as_dumps() {
    for value in sample_values() {
        for protocol in 0..=5 {
            let mut out = Vec::new();
            Pickler::new(&mut out).protocol(protocol).dump(&value).unwrap();
            assert_eq!(out, dumps(&value, protocol).unwrap(), "protocol {protocol}");
        }
    }
}

/// A writer that counts the calls it gets, to see frames arrive one by one.
struct CountingWriter {
    writes: Vec<usize>,
}

impl std::io::Write for CountingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.writes.push(buf.len());
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_writer_receives_each_frame_as_it_is_completed() {
    let value = Value::list((0..100_000).map(|i| format!("entry number {i}")));
    let mut w = CountingWriter { writes: Vec::new() };
    Pickler::new(&mut w).protocol(4).dump(&value).unwrap();
    assert!(w.writes.len() > 10, "expected many frame writes, got {:?}", w.writes.len());
    assert!(w.writes.iter().all(|&n| n < 2 * 65536 + 1024), "a write larger than about one frame: {:?}", w.writes);
}

#[test]
fn large_payloads_reach_the_writer_without_a_copy() {
    let payload = vec![0x5Au8; 1 << 20];
    let mut w = CountingWriter { writes: Vec::new() };
    Pickler::new(&mut w).protocol(5).dump(&pickle_core::Bytes(&payload[..])).unwrap();
    assert!(w.writes.contains(&payload.len()), "the payload was not written in one piece: {:?}", w.writes);
}

#[test]
fn protocols_above_5_are_refused() {
    let err = dumps(&1, 6).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::UnsupportedProtocol(6)), "{err}");
}

fn nested(depth: usize) -> Value {
    (0..depth).fold(Value::None, |v, _| Value::list([v]))
}

#[test]
fn nesting_past_the_limit_is_an_error_not_a_stack_overflow() {
    let deep = nested(100_000);
    let err = dumps(&deep, 4).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::RecursionLimit(1000)), "{err}");
    assert!(err.offset().is_some());
}

#[test]
fn the_default_limit_fits_in_a_small_thread_stack() {
    // Test threads get 2 MiB; nesting just inside the default limit must fit in half that.
    let value = nested(990);
    let handle = std::thread::Builder::new().stack_size(1 << 20).spawn(move || dumps(&value, 0).map(|b| b.len()));
    assert!(handle.unwrap().join().unwrap().is_ok());
}

#[test]
fn a_raised_limit_allows_deep_values_on_a_small_stack() {
    let value = nested(200_000);
    let handle = std::thread::Builder::new().stack_size(256 << 10).spawn(move || {
        let mut out = Vec::new();
        Pickler::new(&mut out).max_depth(1_000_000).dump(&value).map(|()| out.len())
    });
    assert!(handle.unwrap().join().unwrap().is_ok());
}

#[test]
fn globals_that_cannot_be_spelled_are_refused() {
    for (module, name, protocol) in
        [("mod", "bad\nname", 2), ("", "x", 4), ("mod", "", 3), ("módulo", "x", 2), ("m", "nämé", 0)]
    {
        let g = Value::global(module, name);
        let err = dumps(&g, protocol).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Pickling(_)), "{module}.{name} at {protocol}: {err}");
    }
    // Protocol 3 writes GLOBAL names as UTF-8, and protocol 4 as str objects.
    assert!(dumps(&Value::global("módulo", "x"), 3).is_ok());
    assert!(dumps(&Value::global("mod", "a\nb"), 4).is_ok());
}

#[test]
fn unset_and_dangling_references_are_errors() {
    let unset = Value::Shared(Shared::empty());
    assert!(dumps(&unset, 4).is_err());
    let dangling = {
        let node = Shared::new(Value::None);
        Value::Cycle(node.downgrade())
    };
    assert!(dumps(&dangling, 4).is_err());
}

struct NotATuple;

impl Reduce for NotATuple {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        Ok(Call::new(GlobalName::new("m", "f"), ()).into()).map(|mut r: Reduction<'_>| {
            if let Reduction::Call(call) = &mut r {
                call.args = pickle_core::Arg::owned(vec![1]);
            }
            r
        })
    }
}

#[test]
fn reduce_args_that_are_not_a_tuple_are_refused() {
    let err = dumps(&NotATuple, 2).unwrap_err();
    assert_eq!(err.kind().to_string(), "args from save_reduce() must be a tuple");
}

/// A sequence that claims more items than it gives.
struct Liar;

impl Reduce for Liar {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        Ok(Reduction::Builtin(Builtin::List(self)))
    }
}

impl Sequence for Liar {
    fn len(&self) -> usize {
        3
    }
    fn get(&self, _: usize) -> Option<&dyn Reduce> {
        None
    }
    fn save_items(&self, sink: &mut ItemSink<'_, '_>) -> Result<()> {
        sink.save_all([&1, &2])
    }
}

#[test]
fn a_sequence_that_miscounts_is_an_error() {
    for protocol in 0..=5 {
        assert!(dumps(&Liar, protocol).is_err(), "protocol {protocol}");
    }
}

#[test]
fn a_user_error_from_reduce_ex_reaches_the_caller() {
    struct Broken;
    impl Reduce for Broken {
        fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
            Err(pickle_core::Error::custom("connection is closed"))
        }
    }
    let err = dumps(&vec![Broken], 4).unwrap_err();
    assert!(err.to_string().starts_with("connection is closed"), "{err}");
}

/// Found by the fuzzer: a protocol 0 call of a global named `__newobj__` with a dict as its
/// first argument loads (as inert data), but at protocol 2+ it would become NEWOBJ of a dict,
/// which no unpickler loads. The pickler refuses it instead of writing it.
#[test]
fn newobj_of_something_that_is_no_class_is_refused() {
    let input = common_hex("63636f6c006374696f6e730a5f5f6e65776f626a5f5f0a28286470310a56610a70320a49350a7356000000c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c15d5d5d5d5d5d5d636f6f6b69656c69625d5d5d5d5d5d5d5d5d5d5d5d727272727272987272724a922449922449724a92244992244902727272722500720000000000007d0a4930300a737470370a5270380a2e");
    let value = pickle_core::loads::<Value>(&input).unwrap();
    for protocol in 0..=1 {
        let again = dumps(&value, protocol).unwrap();
        assert_eq!(pickle_core::loads::<Value>(&again).unwrap(), value);
    }
    for protocol in 2..=5 {
        let err = dumps(&value, protocol).unwrap_err();
        assert!(err.to_string().contains("is not a class"), "protocol {protocol}: {err}");
    }
}

fn common_hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

/// An instance whose state holds another, `depth` levels down: its attribute names are
/// interned names, which the pickler writes without a reduction when no hook is installed.
struct Node {
    depth: usize,
}

impl Reduce for Node {
    fn reduce_ex(&self, _: u8) -> Result<Reduction<'_>> {
        let state = pickle_core::Attrs::new().with("depth", &self.depth);
        let state = match self.depth {
            0 => state,
            _ => state.with("child", pickle_core::Arg::owned(Node { depth: self.depth - 1 })),
        };
        Ok(Call::new(GlobalName::new("m", "Node"), ()).state(state).into())
    }
}

/// A `reducer_override` that keeps every reduction: installed, it sends every object
/// through the general path.
struct KeepEveryReduction;

impl pickle_core::ReducerOverride for KeepEveryReduction {
    fn reducer_override<'a>(
        &mut self,
        _: Option<&'a dyn std::any::Any>,
        _: &Reduction<'a>,
        _: u8,
    ) -> Result<Option<Reduction<'a>>> {
        Ok(None)
    }
}

/// A derived dict struct holding another: its keys are `'static` names, which the pickler
/// knows again by their address when no hook is installed.
#[derive(pickle_core::Reduce)]
#[pickle(dict)]
struct Record {
    id: i64,
    x: Option<Box<Record>>,
    name: &'static str,
}

#[test]
fn attribute_names_are_written_alike_with_and_without_hooks() {
    let records: Vec<Record> = (0..3)
        .map(|id| Record { id, x: Some(Box::new(Record { id, x: None, name: "inner" })), name: "outer" })
        .collect();
    for protocol in 0..=5u8 {
        for max_depth in 1..=8 {
            let written = |value: &dyn Reduce, hooked: bool| {
                let mut out = Vec::new();
                let mut pickler = Pickler::new(&mut out).protocol(protocol).max_depth(max_depth);
                if hooked {
                    pickler = pickler.reducer_override(KeepEveryReduction);
                }
                let result = pickler.dump(value).map_err(|e| e.to_string());
                drop(pickler);
                result.map(|()| out)
            };
            for value in [&Node { depth: 3 } as &dyn Reduce, &records] {
                assert_eq!(written(value, false), written(value, true), "protocol {protocol}, max_depth {max_depth}");
            }
        }
    }
}
