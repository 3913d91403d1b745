//! chrono's dates, times and durations as Python's `datetime` types (feature `chrono`).
//!
//! CPython's C `datetime` reduces `date`, `time` and `datetime` to `(cls, (state,))`, or
//! `(cls, (state, tzinfo))` when aware, where the state is packed `bytes` (which protocols
//! 0-2 write as `_codecs.encode(str, 'latin1')`; Python 2 wrote a `str`, which loads as a
//! str of Latin-1 code points under `Encoding::Latin1`, or as bytes under
//! `Encoding::Bytes`); `timedelta` to `(timedelta, (days, seconds, microseconds))`;
//! `timezone` to `(timezone, (offset,))`, `timezone.utc` being one object.
//!
//! Python holds microseconds and years 1 to 9999: a chrono value with nanoseconds, a leap
//! second or a year outside is an error to pickle, as a timezone-aware `datetime` is to
//! load into a naive type, a naive one into a `DateTime`, and an offset other than zero
//! into `DateTime<Utc>`.

use std::borrow::Cow;

use ::chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Timelike, Utc};

use super::class_args;
use crate::foreign::packed_bytes;
use crate::reconstruct::Stream;
use crate::reduce::Bytes;
use crate::{Call, Error, GlobalName, Node, Reconstruct, Reduce, Reduction, Result};

const US_PER_DAY: i128 = 86_400_000_000;
/// `timedelta.max.days`: Python's bound on a timedelta, either way.
const MAX_DAYS: i128 = 999_999_999;

fn class(name: &'static str) -> GlobalName<'static> {
    GlobalName::static_type("datetime", name)
}

fn unfit(what: impl std::fmt::Display) -> Error {
    Error::pickling(what.to_string())
}

// ----- the packed states -----

fn date_state(d: &NaiveDate) -> Result<[u8; 4]> {
    let year = u16::try_from(d.year()).ok().filter(|y| (1..=9999).contains(y));
    let year = year.ok_or_else(|| unfit(format_args!("{d}: Python's date holds years 1 to 9999")))?;
    let [hi, lo] = year.to_be_bytes();
    Ok([hi, lo, d.month() as u8, d.day() as u8])
}

fn time_state(t: &NaiveTime) -> Result<[u8; 6]> {
    let nanos = t.nanosecond();
    if nanos >= 1_000_000_000 || nanos % 1000 != 0 {
        return Err(unfit(format_args!("{t}: Python's time holds whole microseconds and no leap second")));
    }
    let [_, a, b, c] = (nanos / 1000).to_be_bytes();
    Ok([t.hour() as u8, t.minute() as u8, t.second() as u8, a, b, c])
}

fn datetime_state(dt: &NaiveDateTime) -> Result<Bytes> {
    let mut state = date_state(&dt.date())?.to_vec();
    state.extend(time_state(&dt.time())?);
    Ok(Bytes(state))
}

/// The state and the tzinfo (if any, and not None) of a call of `datetime.<name>`.
fn call_state<'a>(node: &Node<'a>, name: &str, len: usize) -> Result<(Cow<'a, [u8]>, Option<Node<'a>>)> {
    let mut args = class_args(node, "datetime", name)?;
    let (Some(state), tz, None) = (args.next(), args.next(), args.next()) else {
        return Err(node.error(format!("expected `datetime.{name}` of its pickled state")));
    };
    let bytes = packed_bytes(&state)?;
    if bytes.len() != len {
        return Err(state.error(format!("a `datetime.{name}` state of {} bytes, not {len}", bytes.len())));
    }
    Ok((bytes, tz.filter(|tz| !tz.is_none())))
}

/// The date of a 4-byte state, in Python's years 1 to 9999 (CPython refuses any other), or
/// why there is none: the one rule for both ways of loading (a node, the typed fast path).
fn date_from(s: &[u8]) -> std::result::Result<NaiveDate, String> {
    let year = i32::from(u16::from_be_bytes([s[0], s[1]]));
    let (month, day) = (u32::from(s[2] & 0x7f), u32::from(s[3]));
    NaiveDate::from_ymd_opt(year, month, day)
        .filter(|_| (1..=9999).contains(&year))
        .ok_or_else(|| format!("no such date: year {year}, month {month}, day {day}"))
}

/// The time of a 6-byte state; the fold bit (set at protocol 4+ for the second of two equal
/// wall times) means nothing to a naive chrono time.
fn time_from(s: &[u8]) -> std::result::Result<NaiveTime, String> {
    let micros = u32::from_be_bytes([0, s[3], s[4], s[5]]);
    NaiveTime::from_hms_micro_opt(u32::from(s[0] & 0x7f), u32::from(s[1]), u32::from(s[2]), micros)
        .ok_or_else(|| "no such time of day".to_owned())
}

/// The date and time of a 10-byte state.
fn datetime_from(s: &[u8]) -> std::result::Result<NaiveDateTime, String> {
    Ok(NaiveDateTime::new(date_from(&s[..4])?, time_from(&s[4..])?))
}

fn date_of(node: &Node<'_>, s: &[u8]) -> Result<NaiveDate> {
    date_from(s).map_err(|e| node.error(e))
}

fn time_of(node: &Node<'_>, s: &[u8]) -> Result<NaiveTime> {
    time_from(s).map_err(|e| node.error(e))
}

fn datetime_of(node: &Node<'_>, s: &[u8]) -> Result<NaiveDateTime> {
    datetime_from(s).map_err(|e| node.error(e))
}

/// The typed fast path's read of `datetime.<name>(state)`, a naive value: the state as
/// `bytes` of `len` bytes (what protocols 3 to 5 write), parsed by `parse`; anything else
/// (an aware value, a state of protocols 0 to 2) is the general loader's.
fn stream_naive<S: Stream, T>(
    stream: &mut S,
    name: &str,
    len: usize,
    parse: fn(&[u8]) -> std::result::Result<T, String>,
) -> Option<T> {
    stream.call(&[("datetime", name)], |stream, _| stream.tuple(1, |stream| stream_state(stream, len, parse)))
}

fn naive(node: &Node<'_>, tz: Option<Node<'_>>, rust: &str) -> Result<()> {
    match tz {
        None => Ok(()),
        Some(tz) => {
            Err(node.error(format!("a timezone-aware value ({}) does not fit in a naive `{rust}`", tz.describe())))
        }
    }
}

// ----- date, time, datetime -----

impl Reduce for NaiveDate {
    fn reduce_ex(&self, _protocol: u8) -> Result<Reduction<'_>> {
        Ok(Call::new(class("date"), (Bytes(date_state(self)?),)).into())
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

impl Reconstruct for NaiveDate {
    fn reconstruct(node: Node<'_>) -> Result<NaiveDate> {
        let (state, tz) = call_state(&node, "date", 4)?;
        naive(&node, tz, "NaiveDate")?;
        date_of(&node, &state)
    }

    fn stream<S: Stream>(stream: &mut S) -> Option<NaiveDate> {
        stream_naive(stream, "date", 4, date_from)
    }
}

impl Reduce for NaiveTime {
    fn reduce_ex(&self, _protocol: u8) -> Result<Reduction<'_>> {
        Ok(Call::new(class("time"), (Bytes(time_state(self)?),)).into())
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

impl Reconstruct for NaiveTime {
    fn reconstruct(node: Node<'_>) -> Result<NaiveTime> {
        let (state, tz) = call_state(&node, "time", 6)?;
        naive(&node, tz, "NaiveTime")?;
        time_of(&node, &state)
    }

    fn stream<S: Stream>(stream: &mut S) -> Option<NaiveTime> {
        stream_naive(stream, "time", 6, time_from)
    }
}

impl Reduce for NaiveDateTime {
    fn reduce_ex(&self, _protocol: u8) -> Result<Reduction<'_>> {
        Ok(Call::new(class("datetime"), (datetime_state(self)?,)).into())
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

impl Reconstruct for NaiveDateTime {
    fn reconstruct(node: Node<'_>) -> Result<NaiveDateTime> {
        let (state, tz) = call_state(&node, "datetime", 10)?;
        naive(&node, tz, "NaiveDateTime")?;
        datetime_of(&node, &state)
    }

    fn stream<S: Stream>(stream: &mut S) -> Option<NaiveDateTime> {
        stream_naive(stream, "datetime", 10, datetime_from)
    }
}

// ----- aware datetimes -----

impl Reduce for DateTime<Utc> {
    fn reduce_ex(&self, _protocol: u8) -> Result<Reduction<'_>> {
        let args = (datetime_state(&self.naive_utc())?, Timezone(0));
        Ok(Call::new(class("datetime"), args).into())
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

impl Reconstruct for DateTime<Utc> {
    fn reconstruct(node: Node<'_>) -> Result<DateTime<Utc>> {
        let (state, tz) = call_state(&node, "datetime", 10)?;
        let tz = tz.ok_or_else(|| node.error("a naive datetime does not fit in a `DateTime<Utc>`"))?;
        match offset_of(&tz)? {
            0 => Ok(datetime_of(&node, &state)?.and_utc()),
            seconds => Err(tz.error(format!("the UTC offset {seconds}s does not fit in a `DateTime<Utc>`"))),
        }
    }

    fn stream<S: Stream>(stream: &mut S) -> Option<DateTime<Utc>> {
        let (local, offset) = stream_aware(stream)?;
        (offset == 0).then(|| local.and_utc())
    }
}

impl Reduce for DateTime<FixedOffset> {
    fn reduce_ex(&self, _protocol: u8) -> Result<Reduction<'_>> {
        let args = (datetime_state(&self.naive_local())?, Timezone(self.offset().local_minus_utc()));
        Ok(Call::new(class("datetime"), args).into())
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

impl Reconstruct for DateTime<FixedOffset> {
    fn reconstruct(node: Node<'_>) -> Result<DateTime<FixedOffset>> {
        let (state, tz) = call_state(&node, "datetime", 10)?;
        let tz = tz.ok_or_else(|| node.error("a naive datetime does not fit in a `DateTime<FixedOffset>`"))?;
        let offset = FixedOffset::east_opt(offset_of(&tz)?).ok_or_else(|| tz.error("a UTC offset of a day or more"))?;
        let local = datetime_of(&node, &state)?;
        local.and_local_timezone(offset).single().ok_or_else(|| node.error("a datetime beyond chrono's range"))
    }

    fn stream<S: Stream>(stream: &mut S) -> Option<DateTime<FixedOffset>> {
        let (local, offset) = stream_aware(stream)?;
        local.and_local_timezone(FixedOffset::east_opt(offset)?).single()
    }
}

/// A packed state of `len` bytes, as the typed fast path reads it, parsed by `parse`.
fn stream_state<S: Stream, T>(
    stream: &mut S,
    len: usize,
    parse: fn(&[u8]) -> std::result::Result<T, String>,
) -> Option<T> {
    stream.bytes_with(|state| if state.len() == len { parse(state).ok() } else { None })
}

/// The typed fast path's read of an aware `datetime.datetime(state, tzinfo)` whose tzinfo
/// is a `datetime.timezone` of a fixed offset without a name: the local date and time, and
/// the offset in seconds. The tzinfo, one object for many datetimes (`timezone.utc`), is
/// read once and known again when the pickle fetches it.
fn stream_aware<S: Stream>(stream: &mut S) -> Option<(NaiveDateTime, i32)> {
    stream.call(&[("datetime", "datetime")], |stream, _| {
        stream.tuple(2, |stream| {
            let local = stream_state(stream, 10, datetime_from)?;
            let offset = stream.shared(|stream| {
                let micros = stream.call(&[("datetime", "timezone")], |stream, _| stream.tuple(1, stream_micros))?;
                offset_from(micros).ok()
            })?;
            Some((local, offset))
        })
    })
}

/// The typed fast path's read of `datetime.timedelta(days, seconds, microseconds)`: its
/// microseconds.
fn stream_micros<S: Stream>(stream: &mut S) -> Option<i128> {
    stream.call(&[("datetime", "timedelta")], |stream, _| {
        stream.tuple(3, |stream| {
            let (days, seconds, micros) = (stream.scalar::<i64>()?, stream.scalar::<i64>()?, stream.scalar::<i64>()?);
            Some(i128::from(days) * US_PER_DAY + i128::from(seconds) * 1_000_000 + i128::from(micros))
        })
    })
}

// ----- timezone -----

/// `datetime.timezone(timedelta(seconds=offset))`; offset zero is `timezone.utc`, one
/// object however often it occurs, as CPython's `timezone(timedelta(0))` is too.
struct Timezone(i32);

/// The address that is `timezone.utc`'s identity.
static UTC: u8 = 0;

impl Reduce for Timezone {
    fn reduce_ex(&self, _protocol: u8) -> Result<Reduction<'_>> {
        let offset = TimeDelta::seconds(i64::from(self.0));
        Ok(Call::new(class("timezone"), (offset,)).into())
    }

    fn identity(&self) -> Option<usize> {
        (self.0 == 0).then_some(&UTC as *const u8 as usize)
    }
}

/// The offset in seconds east of a `datetime.timezone`, with or without a name.
fn offset_of(tz: &Node<'_>) -> Result<i32> {
    let mut args = class_args(tz, "datetime", "timezone")
        .map_err(|_| tz.error(format!("the tzinfo {} is no `datetime.timezone` of a fixed offset", tz.describe())))?;
    let offset = args.next().ok_or_else(|| tz.error("a `datetime.timezone` without its offset"))?;
    offset_from(micros_of(&offset)?).map_err(|e| offset.error(e))
}

/// A UTC offset in seconds from its microseconds, a whole number of seconds within a day.
fn offset_from(micros: i128) -> std::result::Result<i32, &'static str> {
    if micros % 1_000_000 != 0 || micros.abs() >= US_PER_DAY {
        return Err("a UTC offset that is no whole number of seconds within a day");
    }
    Ok((micros / 1_000_000) as i32)
}

// ----- timedelta -----

impl Reduce for TimeDelta {
    fn reduce_ex(&self, _protocol: u8) -> Result<Reduction<'_>> {
        let nanos = i128::from(self.num_seconds()) * 1_000_000_000 + i128::from(self.subsec_nanos());
        if nanos % 1000 != 0 {
            return Err(unfit(format_args!("{self}: Python's timedelta holds whole microseconds")));
        }
        let days = (nanos / 1000).div_euclid(US_PER_DAY);
        if days.abs() > MAX_DAYS {
            return Err(unfit(format_args!("{self}: Python's timedelta holds at most 999999999 days")));
        }
        let rest = (nanos / 1000).rem_euclid(US_PER_DAY) as i64;
        Ok(Call::new(class("timedelta"), (days as i64, rest / 1_000_000, rest % 1_000_000)).into())
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// The microseconds of `timedelta(days, seconds, microseconds)`, any of them left out.
fn micros_of(node: &Node<'_>) -> Result<i128> {
    let args = class_args(node, "datetime", "timedelta")?;
    if args.len() > 3 {
        return Err(node.error("expected `datetime.timedelta(days, seconds, microseconds)`"));
    }
    let mut micros = 0i128;
    for (arg, unit) in args.zip([US_PER_DAY, 1_000_000, 1]) {
        micros += i128::from(arg.get::<i64>()?) * unit;
    }
    Ok(micros)
}

impl Reconstruct for TimeDelta {
    fn reconstruct(node: Node<'_>) -> Result<TimeDelta> {
        delta_from(micros_of(&node)?).ok_or_else(|| node.error("a timedelta beyond chrono's `TimeDelta`"))
    }

    fn stream<S: Stream>(stream: &mut S) -> Option<TimeDelta> {
        delta_from(stream_micros(stream)?)
    }
}

/// The `TimeDelta` of so many microseconds, if chrono holds it.
fn delta_from(micros: i128) -> Option<TimeDelta> {
    let seconds = i64::try_from(micros.div_euclid(1_000_000)).ok()?;
    TimeDelta::new(seconds, (micros.rem_euclid(1_000_000) * 1000) as u32)
}
