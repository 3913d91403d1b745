//! The optional features for other crates' types (`chrono`, `uuid`, `rust_decimal`,
//! `num-complex`, `indexmap`, `bytes`) against CPython 3.11: each value pickles to the bytes
//! `pickle.dumps` writes for the Python object it mirrors, at every protocol; what CPython
//! writes at every protocol (and what Python 2 wrote) loads into the Rust type; and a value
//! the other side cannot hold is a typed error, not a panic.

mod common;

use std::fmt::Debug;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc};
use indexmap::{IndexMap, IndexSet};
use num_complex::Complex;
use rust_decimal::Decimal;
use uuid::Uuid;

use common::{assert_same_pickles, cpython_dumps, cpython_run, python_available, Case};
use pickle_core::{
    dumps, loads, loads_with, Call, Encoding, Error, ErrorKind, GlobalName, Pickler, Reconstruct, Reduce, Reduction,
    UnpicklerOptions,
};

const DATETIME: &str = "from datetime import date, time, datetime, timedelta, timezone\n";

// ----- helpers -----

/// Every case pickles on our side at every protocol (two errors would compare equal), and
/// to CPython's bytes; returns how many pickles were compared.
fn assert_same_as_cpython(cases: &[Case<'_>]) -> usize {
    for case in cases {
        for p in 0..=5 {
            (case.rust)(p).unwrap_or_else(|e| panic!("{} at protocol {p}: {e}", case.name));
        }
    }
    assert_same_pickles(cases)
}

/// A case whose Python mirror is `value = {expr}` after `imports`.
fn case<'a, T: Reduce>(imports: &str, expr: &str, value: &'a T) -> Case<'a> {
    Case::with_python(expr, format!("{imports}value = {expr}"), value)
}

/// CPython's pickle of `expr` at every protocol loads into the `T` that `same` accepts, and
/// so does our own pickle of it.
fn assert_loads<T: Reconstruct + Reduce + Debug>(imports: &str, cases: &[(&str, T)], same: fn(&T, &T) -> bool) {
    let asks: Vec<(String, Vec<u8>)> =
        cases.iter().map(|(expr, _)| (format!("{imports}value = {expr}"), (0..=5).collect())).collect();
    for ((expr, expected), answers) in cases.iter().zip(cpython_dumps(&asks)) {
        for (p, answer) in (0u8..).zip(answers) {
            let bytes = answer.unwrap_or_else(|e| panic!("{expr}: CPython could not pickle at {p}: {e}"));
            let loaded: T = loads(&bytes).unwrap_or_else(|e| panic!("{expr} at protocol {p}: {e}"));
            assert!(same(&loaded, expected), "{expr} at protocol {p}: loaded {loaded:?}, expected {expected:?}");
            // The typed fast path, where it takes the pickle, agrees.
            if let Some(fast) = pickle_core::__private::load_streamed::<T>(&bytes, &Default::default()) {
                assert!(same(&fast, expected), "{expr} at protocol {p}: the fast path loaded {fast:?}");
            }
            let ours: T = loads(&dumps(expected, p).unwrap()).unwrap();
            assert!(same(&ours, expected), "{expr}: our own pickle at protocol {p} loaded {ours:?}");
        }
    }
}

/// The error is typed, about the value (not the pickle's syntax), and says `what`.
fn assert_misfit(error: &Error, what: &str, context: &str) {
    let typed = matches!(error.kind(), ErrorKind::Reconstruct(_) | ErrorKind::Mismatch { .. } | ErrorKind::Pickling(_));
    assert!(typed, "{context}: an error of the wrong kind: {error:?}");
    assert!(error.to_string().contains(what), "{context}: {error} does not say {what:?}");
}

/// CPython's pickle of each expression, at every protocol, does not load into `T`.
fn assert_loads_fail<T: Reconstruct + Debug>(imports: &str, cases: &[(&str, &str)]) {
    let asks: Vec<(String, Vec<u8>)> =
        cases.iter().map(|(expr, _)| (format!("{imports}value = {expr}"), (0..=5).collect())).collect();
    for ((expr, what), answers) in cases.iter().zip(cpython_dumps(&asks)) {
        for (p, answer) in (0u8..).zip(answers) {
            let bytes = answer.unwrap_or_else(|e| panic!("{expr}: CPython could not pickle at {p}: {e}"));
            let error = loads::<T>(&bytes).expect_err(&format!("{expr} at protocol {p} loaded"));
            assert_misfit(&error, what, &format!("{expr} at protocol {p}"));
        }
    }
}

/// Our value does not pickle, at any protocol, and says `what`.
fn assert_dumps_fail<T: Reduce>(value: &T, what: &str) {
    for p in 0..=5 {
        let error = dumps(value, p).expect_err(&format!("{what}: pickled at protocol {p}"));
        assert_misfit(&error, what, &format!("protocol {p}"));
    }
}

fn eq<T: PartialEq>(a: &T, b: &T) -> bool {
    a == b
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn time(h: u32, m: u32, s: u32, us: u32) -> NaiveTime {
    NaiveTime::from_hms_micro_opt(h, m, s, us).unwrap()
}

fn offset(seconds: i32) -> FixedOffset {
    FixedOffset::east_opt(seconds).unwrap()
}

fn delta(seconds: i64, micros: u32) -> TimeDelta {
    TimeDelta::new(seconds, micros * 1000).unwrap()
}

// ----- chrono -----

struct Chrono {
    dates: Vec<(&'static str, NaiveDate)>,
    times: Vec<(&'static str, NaiveTime)>,
    datetimes: Vec<(&'static str, NaiveDateTime)>,
    utc: Vec<(&'static str, DateTime<Utc>)>,
    fixed: Vec<(&'static str, DateTime<FixedOffset>)>,
    deltas: Vec<(&'static str, TimeDelta)>,
}

fn chrono_values() -> Chrono {
    let moment = date(2020, 1, 2).and_time(time(3, 4, 5, 6));
    let at = |seconds: i32| offset(seconds).from_local_datetime(&moment).unwrap();
    Chrono {
        dates: vec![
            ("date(2020, 1, 2)", date(2020, 1, 2)),
            ("date.min", NaiveDate::from_ymd_opt(1, 1, 1).unwrap()),
            ("date.max", date(9999, 12, 31)),
            ("date(2000, 2, 29)", date(2000, 2, 29)),
        ],
        times: vec![
            ("time()", time(0, 0, 0, 0)),
            ("time(3, 4, 5, 6)", time(3, 4, 5, 6)),
            ("time.max", time(23, 59, 59, 999_999)),
            ("time(12, 0, 0, 65536)", time(12, 0, 0, 65_536)),
        ],
        datetimes: vec![
            ("datetime(2020, 1, 2, 3, 4, 5, 6)", moment),
            ("datetime.min", NaiveDate::from_ymd_opt(1, 1, 1).unwrap().and_time(time(0, 0, 0, 0))),
            ("datetime.max", date(9999, 12, 31).and_time(time(23, 59, 59, 999_999))),
        ],
        utc: vec![
            ("datetime(2020, 1, 2, 3, 4, 5, 6, tzinfo=timezone.utc)", moment.and_utc()),
            (
                "datetime.max.replace(tzinfo=timezone.utc)",
                date(9999, 12, 31).and_hms_micro_opt(23, 59, 59, 999_999).unwrap().and_utc(),
            ),
        ],
        fixed: vec![
            ("datetime(2020, 1, 2, 3, 4, 5, 6, tzinfo=timezone(timedelta(hours=5, minutes=30)))", at(19_800)),
            ("datetime(2020, 1, 2, 3, 4, 5, 6, tzinfo=timezone(timedelta(hours=-5, minutes=-30)))", at(-19_800)),
            ("datetime(2020, 1, 2, 3, 4, 5, 6, tzinfo=timezone(timedelta(minutes=15)))", at(900)),
            ("datetime(2020, 1, 2, 3, 4, 5, 6, tzinfo=timezone(timedelta(seconds=-30)))", at(-30)),
            (
                "datetime(2020, 1, 2, 3, 4, 5, 6, tzinfo=timezone(-timedelta(hours=23, minutes=59, seconds=59)))",
                at(-86_399),
            ),
            ("datetime(2020, 1, 2, 3, 4, 5, 6, tzinfo=timezone(timedelta(0)))", at(0)),
        ],
        deltas: vec![
            ("timedelta(0)", TimeDelta::zero()),
            ("timedelta(-1, 5, 7)", delta(-86_400 + 5, 7)),
            ("timedelta(microseconds=-1)", delta(-1, 999_999)),
            ("timedelta(days=365, seconds=3, microseconds=999999)", delta(365 * 86_400 + 3, 999_999)),
            ("timedelta.max", delta(999_999_999 * 86_400 + 86_399, 999_999)),
            ("timedelta.min", delta(-999_999_999 * 86_400, 0)),
        ],
    }
}

fn cases_of<'a, T: Reduce>(cases: &mut Vec<Case<'a>>, values: &'a [(&'static str, T)]) {
    cases.extend(values.iter().map(|(expr, value)| case(DATETIME, expr, value)));
}

#[test]
fn chrono_pickles_as_cpython_pickles_datetime() {
    if !python_available("chrono_pickles_as_cpython_pickles_datetime") {
        return;
    }
    let v = chrono_values();
    let two_utc = vec![v.utc[0].1, v.utc[1].1];
    let two_fixed = vec![v.fixed[0].1, v.fixed[0].1];
    let mixed = (v.dates[0].1, v.times[1].1, v.deltas[1].1, v.datetimes[0].1);
    let mut cases = Vec::new();
    cases_of(&mut cases, &v.dates);
    cases_of(&mut cases, &v.times);
    cases_of(&mut cases, &v.datetimes);
    cases_of(&mut cases, &v.utc);
    cases_of(&mut cases, &v.fixed);
    cases_of(&mut cases, &v.deltas);
    // timezone.utc is one object: the second datetime's tzinfo is a memo GET.
    let utc_list = "[datetime(2020, 1, 2, 3, 4, 5, 6, tzinfo=timezone.utc), \
                    datetime.max.replace(tzinfo=timezone.utc)]";
    cases.push(case(DATETIME, utc_list, &two_utc));
    // Two timezones made apart are two objects, as two FixedOffset values are.
    let fixed_list = "[datetime(2020, 1, 2, 3, 4, 5, 6, tzinfo=timezone(timedelta(hours=5, minutes=30))), \
                      datetime(2020, 1, 2, 3, 4, 5, 6, tzinfo=timezone(timedelta(hours=5, minutes=30)))]";
    cases.push(case(DATETIME, fixed_list, &two_fixed));
    let mixed_expr = "(date(2020, 1, 2), time(3, 4, 5, 6), timedelta(-1, 5, 7), datetime(2020, 1, 2, 3, 4, 5, 6))";
    cases.push(case(DATETIME, mixed_expr, &mixed));
    assert_eq!(assert_same_as_cpython(&cases), cases.len() * 6);
}

#[test]
fn cpython_datetime_pickles_load_into_chrono() {
    if !python_available("cpython_datetime_pickles_load_into_chrono") {
        return;
    }
    let v = chrono_values();
    assert_loads(DATETIME, &v.dates, eq);
    assert_loads(DATETIME, &v.times, eq);
    assert_loads(DATETIME, &v.datetimes, eq);
    assert_loads(DATETIME, &v.utc, eq);
    assert_loads(DATETIME, &v.fixed, |a, b| a == b && a.offset() == b.offset());
    assert_loads(DATETIME, &v.deltas, eq);
    // The fold of the second of two equal wall times (written at protocol 4+) is no
    // concern of a naive value.
    assert_loads(
        DATETIME,
        &[("datetime(2020, 11, 1, 1, 30, fold=1)", date(2020, 11, 1).and_time(time(1, 30, 0, 0)))],
        eq,
    );
    assert_loads(DATETIME, &[("time(1, 30, fold=1)", time(1, 30, 0, 0))], eq);
    // A timezone's name is Python's alone: the offset is what a FixedOffset holds.
    let named = "datetime(2020, 1, 2, 3, 4, 5, 6, tzinfo=timezone(timedelta(hours=5, minutes=30), 'IST'))";
    let v = chrono_values();
    assert_loads(DATETIME, &[(named, v.fixed[0].1)], |a, b| a == b && a.offset() == b.offset());
    let utc = "datetime(2020, 1, 2, 3, 4, 5, 6, tzinfo=timezone(timedelta(0), 'Z'))";
    assert_loads(DATETIME, &[(utc, v.utc[0].1)], eq);
}

#[test]
fn states_left_as_codecs_encode_calls_load_too() {
    if !python_available("states_left_as_codecs_encode_calls_load_too") {
        return;
    }
    // Protocols 0-2 write a state as `_codecs.encode(str, 'latin1')`; with the builtin
    // reductions off, the unpickler leaves that call as an object.
    let options = UnpicklerOptions { builtin_reductions: false, ..UnpicklerOptions::default() };
    let v = chrono_values();
    let asks = [
        (format!("{DATETIME}value = {}", v.dates[2].0), vec![0, 1, 2]),
        (format!("{DATETIME}value = {}", v.fixed[1].0), vec![0, 1, 2]),
    ];
    let answers = cpython_dumps(&asks);
    for answer in &answers[0] {
        assert_eq!(loads_with::<NaiveDate>(answer.as_ref().unwrap(), &options).unwrap(), v.dates[2].1);
    }
    for answer in &answers[1] {
        assert_eq!(loads_with::<DateTime<FixedOffset>>(answer.as_ref().unwrap(), &options).unwrap(), v.fixed[1].1);
    }
}

#[test]
fn python2_datetime_pickles_load_with_latin1_or_bytes() {
    if !python_available("python2_datetime_pickles_load_with_latin1_or_bytes") {
        return;
    }
    // What Python 2 wrote: the state as a str (STRING at protocol 0, SHORT_BINSTRING at 2),
    // which CPython 3 itself loads only with encoding='latin1' or 'bytes'.
    let python2 = |ctor: &str, cls: &str| {
        format!(
            "import datetime, pickle\nobj = datetime.{ctor}\nstate = obj.__reduce__()[1][0]\n\
             proto0 = b'cdatetime\\n{cls}\\np0\\n(S' + ascii(state.decode('latin1')).encode() + b'\\np1\\ntp2\\nRp3\\n.'\n\
             proto2 = b'\\x80\\x02cdatetime\\n{cls}\\nq\\x00U' + bytes([len(state)]) + state + b'q\\x01\\x85q\\x02Rq\\x03.'\n\
             assert pickle.loads(proto0, encoding='latin1') == obj == pickle.loads(proto2, encoding='bytes')\n\
             data = proto0 + proto2\nloaded = len(proto0)"
        )
    };
    let asks = [python2("date(2020, 1, 2)", "date"), python2("datetime(2020, 1, 2, 3, 4, 5, 6)", "datetime")];
    let runs = cpython_run(&asks.iter().map(String::as_str).collect::<Vec<_>>());
    let splits: Vec<(Vec<u8>, Vec<u8>)> = runs
        .into_iter()
        .map(|run| {
            let run = run.unwrap();
            let at: usize = run.repr.unwrap().parse().unwrap();
            (run.data[..at].to_vec(), run.data[at..].to_vec())
        })
        .collect();
    for encoding in [Encoding::Latin1, Encoding::Bytes] {
        let options = UnpicklerOptions { encoding, ..UnpicklerOptions::default() };
        for pickle in [&splits[0].0, &splits[0].1] {
            assert_eq!(loads_with::<NaiveDate>(pickle, &options).unwrap(), date(2020, 1, 2), "{encoding:?}");
        }
        for pickle in [&splits[1].0, &splits[1].1] {
            let expected = date(2020, 1, 2).and_time(time(3, 4, 5, 6));
            assert_eq!(loads_with::<NaiveDateTime>(pickle, &options).unwrap(), expected, "{encoding:?}");
        }
    }
}

#[test]
fn datetimes_that_do_not_fit_are_typed_errors() {
    if !python_available("datetimes_that_do_not_fit_are_typed_errors") {
        return;
    }
    let aware = "datetime(2020, 1, 2, tzinfo=timezone(timedelta(hours=1)))";
    assert_loads_fail::<NaiveDateTime>(
        DATETIME,
        &[(aware, "naive"), ("date(2020, 1, 2)", "expected `datetime.datetime`")],
    );
    assert_loads_fail::<NaiveTime>(DATETIME, &[("time(1, tzinfo=timezone.utc)", "naive")]);
    assert_loads_fail::<DateTime<Utc>>(
        DATETIME,
        &[("datetime(2020, 1, 2)", "naive datetime"), (aware, "offset 3600s"), ("date(2020, 1, 2)", "expected")],
    );
    assert_loads_fail::<DateTime<FixedOffset>>(
        DATETIME,
        &[
            ("datetime(2020, 1, 2)", "naive datetime"),
            ("datetime(2020, 1, 2, tzinfo=timezone(timedelta(seconds=1, microseconds=5)))", "whole number of seconds"),
        ],
    );
    let zoned = "datetime(2020, 1, 2, tzinfo=__import__('zoneinfo').ZoneInfo('Europe/Paris'))";
    assert_loads_fail::<DateTime<FixedOffset>>(DATETIME, &[(zoned, "no `datetime.timezone` of a fixed offset")]);
    assert_loads_fail::<DateTime<Utc>>(DATETIME, &[(zoned, "no `datetime.timezone` of a fixed offset")]);
    assert_loads_fail::<NaiveDate>(DATETIME, &[("timedelta(1)", "expected `datetime.date`")]);
    assert_loads_fail::<TimeDelta>(DATETIME, &[("1.5", "expected `datetime.timedelta`")]);

    // Rust values Python cannot hold.
    assert_dumps_fail(&NaiveDate::from_ymd_opt(0, 1, 1).unwrap(), "years 1 to 9999");
    assert_dumps_fail(&NaiveDate::from_ymd_opt(10_000, 1, 1).unwrap(), "years 1 to 9999");
    assert_dumps_fail(&NaiveTime::from_hms_nano_opt(1, 2, 3, 4).unwrap(), "whole microseconds");
    assert_dumps_fail(&NaiveTime::from_hms_milli_opt(23, 59, 59, 1500).unwrap(), "leap second");
    assert_dumps_fail(&TimeDelta::new(1, 1).unwrap(), "whole microseconds");
    assert_dumps_fail(&TimeDelta::days(1_000_000_000), "999999999 days");
    let utc = Utc.from_utc_datetime(&NaiveDate::from_ymd_opt(-5, 1, 1).unwrap().and_time(time(0, 0, 0, 0)));
    assert_dumps_fail(&utc, "years 1 to 9999");
}

#[test]
fn states_python_refuses_are_typed_errors() {
    if !python_available("states_python_refuses_are_typed_errors") {
        return;
    }
    // Reductions CPython writes for a class that claims to be a datetime or a Decimal, with
    // arguments the real class refuses (ValueError) or cannot hold.
    let forged = |callable: &str, args: &str| {
        format!(
            "import datetime, decimal, pickle\nclass Forged:\n    def __reduce__(self):\n        \
             return ({callable}, {args})\ndata = pickle.dumps(Forged(), 2)"
        )
    };
    let asks = [
        forged("datetime.date", "(b'\\x00\\x00\\x01\\x01',)"),
        forged("datetime.datetime", "(b'\\x07\\xe4\\x02\\x1e\\x00\\x00\\x00\\x00\\x00\\x00',)"),
        forged("datetime.time", "(b'\\x18\\x00\\x00\\x00\\x00\\x00',)"),
        forged("datetime.date", "(b'\\x07\\xe4\\x01',)"),
        forged("decimal.Decimal", "('1E-9223372036854775808',)"),
        forged("decimal.Decimal", "('1E+9223372036854775807',)"),
        forged("decimal.Decimal", "('12a',)"),
        forged("datetime.timedelta", "(10**30, 0, 0)"),
    ];
    let data: Vec<Vec<u8>> = cpython_run(&asks.iter().map(String::as_str).collect::<Vec<_>>())
        .into_iter()
        .map(|r| r.unwrap().data)
        .collect();
    assert_misfit(&loads::<NaiveDate>(&data[0]).unwrap_err(), "no such date: year 0", "year 0");
    assert_misfit(&loads::<NaiveDateTime>(&data[1]).unwrap_err(), "month 2, day 30", "February 30");
    assert_misfit(&loads::<NaiveTime>(&data[2]).unwrap_err(), "no such time", "hour 24");
    assert_misfit(&loads::<NaiveDate>(&data[3]).unwrap_err(), "state of 3 bytes", "a short state");
    for forged in &data[4..7] {
        assert_misfit(&loads::<Decimal>(forged).unwrap_err(), "does not fit", "a forged Decimal");
    }
    assert_misfit(&loads::<TimeDelta>(&data[7]).unwrap_err(), "does not fit in a `i64`", "10**30 days");
}

// ----- uuid -----

fn uuids() -> Vec<(&'static str, Uuid)> {
    vec![
        ("UUID(int=0)", Uuid::nil()),
        ("UUID(int=5)", Uuid::from_u128(5)),
        ("UUID(int=2**128 - 1)", Uuid::max()),
        (
            "UUID('12345678-1234-5678-1234-567812345678')",
            Uuid::from_str("12345678-1234-5678-1234-567812345678").unwrap(),
        ),
        ("UUID(int=2**63)", Uuid::from_u128(1 << 63)),
    ]
}

#[test]
fn uuids_pickle_and_load_as_cpython_uuids() {
    if !python_available("uuids_pickle_and_load_as_cpython_uuids") {
        return;
    }
    let values = uuids();
    let pair = vec![values[1].1, values[3].1];
    let mut cases: Vec<Case<'_>> = values.iter().map(|(expr, v)| case("from uuid import UUID\n", expr, v)).collect();
    cases.push(case("from uuid import UUID\n", "[UUID(int=5), UUID('12345678-1234-5678-1234-567812345678')]", &pair));
    assert_eq!(assert_same_as_cpython(&cases), cases.len() * 6);
    assert_loads("from uuid import UUID\n", &values, eq);
    // A UUID that knows how it was made carries `is_safe` in its state too.
    let safe = [("UUID(int=7, is_safe=SafeUUID.safe)", Uuid::from_u128(7))];
    assert_loads("from uuid import UUID, SafeUUID\n", &safe, eq);
    assert_loads_fail::<Uuid>(
        "",
        &[("5", "expected `uuid.UUID`"), ("'12345678-1234-5678-1234-567812345678'", "expected")],
    );
}

/// A reducer for `Uuid` in the dispatch table: `(uuid.UUID, (str(u),))`.
fn uuid_as_str(u: &Uuid, _: u8) -> pickle_core::Result<Reduction<'_>> {
    Ok(Call::new(GlobalName::new("uuid", "UUID"), (u.hyphenated().to_string(),)).into())
}

#[test]
fn the_dispatch_table_reaches_foreign_types_as_copyreg_does() {
    if !python_available("the_dispatch_table_reaches_foreign_types_as_copyreg_does") {
        return;
    }
    let values = vec![Uuid::from_u128(5), Uuid::max()];
    for protocol in 0..=5u8 {
        let code = format!(
            "import copyreg, io, pickle, uuid\nbuf = io.BytesIO()\np = pickle.Pickler(buf, {protocol})\n\
             p.dispatch_table = {{uuid.UUID: lambda u: (uuid.UUID, (str(u),))}}\n\
             p.dump([uuid.UUID(int=5), uuid.UUID(int=2**128 - 1)])\ndata = buf.getvalue()"
        );
        let theirs = cpython_run(&[&code]).remove(0).unwrap().data;
        let mut ours = Vec::new();
        Pickler::new(&mut ours).protocol(protocol).dispatch(uuid_as_str).dump(&values).unwrap();
        assert_eq!(ours, theirs, "protocol {protocol}");
    }
}

// ----- rust_decimal -----

fn decimal(text: &str) -> Decimal {
    Decimal::from_str_exact(text).unwrap()
}

fn decimals() -> Vec<(&'static str, Decimal)> {
    let mut negative_zero = decimal("0.00");
    negative_zero.set_sign_negative(true);
    vec![
        ("Decimal('1.23')", decimal("1.23")),
        ("Decimal('0')", Decimal::ZERO),
        ("Decimal('0.00')", decimal("0.00")),
        ("Decimal('-0.00')", negative_zero),
        ("Decimal('-1.5')", decimal("-1.5")),
        ("Decimal('123456.789')", decimal("123456.789")),
        ("Decimal('-0.000001')", decimal("-0.000001")),
        ("Decimal('1E-7')", decimal("0.0000001")),
        ("Decimal('0E-10')", Decimal::new(0, 10)),
        ("Decimal('1E-28')", decimal("0.0000000000000000000000000001")),
        ("Decimal('79228162514264337593543950335')", Decimal::MAX),
        ("Decimal('-79228162514264337593543950335')", Decimal::MIN),
        ("Decimal('7.9228162514264337593543950335')", Decimal::from_i128_with_scale(Decimal::MAX.mantissa(), 28)),
    ]
}

#[test]
fn decimals_pickle_and_load_as_cpython_decimals() {
    if !python_available("decimals_pickle_and_load_as_cpython_decimals") {
        return;
    }
    let values = decimals();
    // C's str(Decimal) is a new str even of one digit, not the shared '0' a str literal is.
    let digits = (Decimal::ZERO, Decimal::ZERO, "0".to_owned(), Decimal::from(7), vec!["7".to_owned()]);
    let mut cases: Vec<Case<'_>> =
        values.iter().map(|(expr, v)| case("from decimal import Decimal\n", expr, v)).collect();
    let digits_expr = "(Decimal(0), Decimal('0'), '0', Decimal('7'), ['7'])";
    cases.push(case("from decimal import Decimal\n", digits_expr, &digits));
    assert_eq!(assert_same_as_cpython(&cases), cases.len() * 6);
    // The same with a hook that sees every object (and keeps them all in the pickle).
    for p in 0..=5 {
        let mut hooked = Vec::new();
        Pickler::new(&mut hooked).protocol(p).persistent_id(|_, _| Ok(None)).dump(&digits).unwrap();
        assert_eq!(hooked, dumps(&digits, p).unwrap(), "protocol {p}");
    }
    // Equal, and with the same scale and sign (so `str()` is Python's again).
    let same =
        |a: &Decimal, b: &Decimal| a == b && a.scale() == b.scale() && a.is_sign_negative() == b.is_sign_negative();
    assert_loads("from decimal import Decimal\n", &values, same);
    // Forms Python writes that rust_decimal holds with another exponent: the same value.
    let other_exponents = [
        ("Decimal('1E+3')", Decimal::from(1000)),
        ("Decimal('1.000000000000000000000000000000000')", decimal("1.0000000000000000000000000000")),
        ("Decimal('0E-40')", Decimal::new(0, 28)),
        ("Decimal(12345678901234)", Decimal::from(12_345_678_901_234i64)),
    ];
    assert_loads("from decimal import Decimal\n", &other_exponents, eq);
}

#[test]
fn decimals_rust_decimal_cannot_hold_are_typed_errors() {
    if !python_available("decimals_rust_decimal_cannot_hold_are_typed_errors") {
        return;
    }
    let fits = "does not fit in a `rust_decimal::Decimal`";
    assert_loads_fail::<Decimal>(
        "from decimal import Decimal\n",
        &[
            ("Decimal('NaN')", fits),
            ("Decimal('-sNaN')", fits),
            ("Decimal('Infinity')", fits),
            ("Decimal('-Infinity')", fits),
            ("Decimal('1E+30')", fits),
            ("Decimal('79228162514264337593543950336')", fits),
            ("Decimal('1E-29')", fits),
            ("Decimal('1.00000000000000000000000000001')", fits),
            ("1.5", "expected `decimal.Decimal`"),
        ],
    );
}

// ----- num-complex -----

fn complexes() -> Vec<(&'static str, Complex<f64>)> {
    vec![
        ("complex(1, 2)", Complex::new(1.0, 2.0)),
        ("complex(-0.0, 0.0)", Complex::new(-0.0, 0.0)),
        ("complex(float('inf'), -float('inf'))", Complex::new(f64::INFINITY, f64::NEG_INFINITY)),
        ("complex(float('nan'), 1e-300)", Complex::new(f64::NAN, 1e-300)),
        ("complex(0.1, -2.5e300)", Complex::new(0.1, -2.5e300)),
    ]
}

#[test]
fn complexes_pickle_and_load_as_cpython_complexes() {
    if !python_available("complexes_pickle_and_load_as_cpython_complexes") {
        return;
    }
    let values = complexes();
    let list = vec![values[0].1, values[0].1];
    let mut cases: Vec<Case<'_>> = values.iter().map(|(expr, v)| case("", expr, v)).collect();
    cases.push(case("", "[complex(1, 2), complex(1, 2)]", &list));
    assert_eq!(assert_same_as_cpython(&cases), cases.len() * 6);
    let bits =
        |a: &Complex<f64>, b: &Complex<f64>| a.re.to_bits() == b.re.to_bits() && a.im.to_bits() == b.im.to_bits();
    assert_loads("", &values, bits);
    assert_loads_fail::<Complex<f64>>("", &[("1.5", "expected `builtins.complex`"), ("[1, 2]", "expected")]);
}

// ----- indexmap -----

#[test]
fn indexmaps_pickle_and_load_as_dicts_and_sets_in_order() {
    if !python_available("indexmaps_pickle_and_load_as_dicts_and_sets_in_order") {
        return;
    }
    let ints: IndexMap<i64, String> = [(3, "c"), (1, "a"), (-20, "b")].map(|(k, v)| (k, v.to_owned())).into();
    let strs: IndexMap<String, i64> = [("zeta", 1), ("alpha", 2), ("mu", 3)].map(|(k, v)| (k.to_owned(), v)).into();
    let long: IndexMap<i64, i64> = (0..2500).rev().map(|i| (i, i * i)).collect();
    let empty: IndexMap<String, i64> = IndexMap::new();
    // A set pickles in its iteration order, which for small ints Python's hashing fixes.
    let set: IndexSet<i64> = [1000, 3, 7].into();
    let cases = vec![
        case("", "{3: 'c', 1: 'a', -20: 'b'}", &ints),
        case("", "{'zeta': 1, 'alpha': 2, 'mu': 3}", &strs),
        case("", "{i: i * i for i in reversed(range(2500))}", &long),
        case("", "{}", &empty),
        case("", "(lambda s: s if list(s) == [1000, 3, 7] else None)({1000, 3, 7})", &set),
    ];
    assert_eq!(assert_same_as_cpython(&cases), cases.len() * 6);
    let in_order = |a: &IndexMap<i64, String>, b: &IndexMap<i64, String>| a.iter().eq(b.iter());
    assert_loads("", &[("{3: 'c', 1: 'a', -20: 'b'}", ints.clone())], in_order);
    let in_order = |a: &IndexMap<String, i64>, b: &IndexMap<String, i64>| a.iter().eq(b.iter());
    assert_loads("", &[("{'zeta': 1, 'alpha': 2, 'mu': 3}", strs.clone())], in_order);
    let ordered = "__import__('collections').OrderedDict([(3, 'c'), (1, 'a'), (-20, 'b')])";
    let in_order = |a: &IndexMap<i64, String>, b: &IndexMap<i64, String>| a.iter().eq(b.iter());
    assert_loads("", &[(ordered, ints.clone())], in_order);
    let in_order = |a: &IndexMap<i64, i64>, b: &IndexMap<i64, i64>| a.iter().eq(b.iter());
    assert_loads("", &[("{i: i * i for i in reversed(range(2500))}", long.clone())], in_order);
    let in_order = |a: &IndexSet<i64>, b: &IndexSet<i64>| a.iter().eq(b.iter());
    assert_loads("", &[("{1000, 3, 7}", set.clone()), ("frozenset({1000, 3, 7})", set.clone())], in_order);
    assert_loads_fail::<IndexMap<i64, i64>>("", &[("[(1, 2)]", "expected dict"), ("{1: 'a'}", "expected int")]);
    assert_loads_fail::<IndexSet<i64>>("", &[("[1, 2]", "expected set")]);
}

// ----- bytes -----

#[test]
fn bytes_pickle_and_load_as_cpython_bytes() {
    if !python_available("bytes_pickle_and_load_as_cpython_bytes") {
        return;
    }
    let large: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let values = vec![
        ("b''", bytes::Bytes::new()),
        ("b'a'", bytes::Bytes::from_static(b"a")),
        ("bytes(range(256))", bytes::Bytes::from((0..=255).collect::<Vec<u8>>())),
        ("bytes(i * 7 % 256 for i in range(100000))", bytes::Bytes::from(large)),
    ];
    let pair = vec![values[1].1.clone(), values[1].1.clone(), values[0].1.clone()];
    let mut cases: Vec<Case<'_>> = values.iter().map(|(expr, v)| case("", expr, v)).collect();
    cases.push(case("", "[b'a', b'a', b'']", &pair));
    assert_eq!(assert_same_as_cpython(&cases), cases.len() * 6);
    assert_loads("", &values, eq);
    assert_loads("", &[("bytearray(b'xyz')", bytes::Bytes::from_static(b"xyz"))], eq);
    assert_loads_fail::<bytes::Bytes>("", &[("'abc'", "expected bytes")]);
}

/// Lists of the values CPython writes most, read by the typed fast path with no graph, from
/// protocol 1 (at 0 numbers are text): the datetime states as `bytes` from protocol 3, and
/// below as the `_codecs.encode(text, 'latin1')` calls that make them; timedelta, Decimal
/// and complex; ordered maps and sets, and bytes (`_codecs.encode` below protocol 3). The
/// class, and `timezone.utc`, met again by GET. Both paths agree.
#[test]
fn the_typed_fast_path_reads_what_cpython_writes() {
    if !python_available("the_typed_fast_path_reads_what_cpython_writes") {
        return;
    }
    fn check<T: Reconstruct + Reduce + Debug + PartialEq>(imports: &str, expr: &str, from: u8) -> usize {
        let asks = [(format!("{imports}value = {expr}"), (0..=5).collect())];
        let answers = cpython_dumps(&asks).remove(0);
        let mut taken = 0;
        for (p, answer) in (0u8..).zip(answers) {
            let bytes = answer.unwrap();
            let general = pickle_core::Unpickler::new(std::io::Cursor::new(&bytes)).load::<Vec<T>>().unwrap();
            let fast = pickle_core::__private::load_streamed::<Vec<T>>(&bytes, &Default::default());
            assert_eq!(fast.is_some(), p >= from, "{expr} at protocol {p}");
            if let Some(fast) = fast {
                assert_eq!(fast, general, "{expr} at protocol {p}");
                taken += 1;
            }
        }
        taken
    }
    let v = chrono_values();
    fn list<T>(values: &[(&str, T)]) -> String {
        format!("[{}]", values.iter().map(|(e, _)| *e).collect::<Vec<_>>().join(", "))
    }
    let mut taken = 0;
    taken += check::<NaiveDate>(DATETIME, &list(&v.dates), 1);
    taken += check::<NaiveTime>(DATETIME, &list(&v.times), 1);
    taken += check::<NaiveDateTime>(DATETIME, &list(&v.datetimes), 1);
    taken += check::<DateTime<Utc>>(DATETIME, &list(&v.utc), 1);
    taken += check::<DateTime<FixedOffset>>(DATETIME, &list(&v.fixed), 1);
    taken += check::<TimeDelta>(DATETIME, &list(&v.deltas), 1);
    taken +=
        check::<Decimal>("from decimal import Decimal\n", "[Decimal('1.25'), Decimal('-0.00'), Decimal('1E-7')]", 1);
    taken += check::<Complex<f64>>("", "[complex(1, 2), complex(-0.0, float('inf'))]", 1);
    taken += check::<IndexMap<String, i64>>("", "[{'zeta': 1, 'alpha': 2}, {}]", 1);
    taken += check::<IndexSet<i64>>("", "[{1000, 3, 7}, frozenset({1})]", 1);
    // (`b''` below protocol 3 is the call `bytes()`, which the general loader reads.)
    taken += check::<bytes::Bytes>("", "[b'a', bytes(range(256))]", 1);
    assert_eq!(taken, 11 * 5);
    // A named timezone is the general loader's (the fast path reads `timezone(offset)`).
    let named = "[datetime(2020, 1, 2, tzinfo=timezone(timedelta(hours=1), 'CET'))]";
    let asks = [(format!("{DATETIME}value = {named}"), vec![4])];
    let bytes = cpython_dumps(&asks).remove(0).remove(0).unwrap();
    assert!(pickle_core::__private::load_streamed::<Vec<DateTime<FixedOffset>>>(&bytes, &Default::default()).is_none());
    assert!(loads::<Vec<DateTime<FixedOffset>>>(&bytes).is_ok());
}
