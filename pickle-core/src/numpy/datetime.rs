//! The unit of `datetime64` and `timedelta64` dtypes, as numpy spells it in `dtype.str`
//! (`'<M8[25s]'`) and as it pickles it: the 9th item of the dtype's state,
//! `(metadata, (unit, count, 1, 1))` with the unit as bytes (`b'ns'`) and an empty metadata
//! dict (`_get_pickleabletype_from_datetime_metadata` in numpy's `datetime.c`).

use std::collections::BTreeMap;

use crate::foreign::packed_bytes;
use crate::reduce::Bytes;
use crate::{Error, Node, Result};

/// The base of a datetime unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimeUnit {
    /// `Y`.
    Years,
    /// `M`.
    Months,
    /// `W`.
    Weeks,
    /// `D`.
    Days,
    /// `h`.
    Hours,
    /// `m`.
    Minutes,
    /// `s`.
    Seconds,
    /// `ms`.
    Milliseconds,
    /// `us`.
    Microseconds,
    /// `ns`.
    Nanoseconds,
    /// `ps`.
    Picoseconds,
    /// `fs`.
    Femtoseconds,
    /// `as`.
    Attoseconds,
    /// `generic`: no unit yet (`'<M8'`).
    Generic,
}

const UNITS: [(TimeUnit, &str); 14] = [
    (TimeUnit::Years, "Y"),
    (TimeUnit::Months, "M"),
    (TimeUnit::Weeks, "W"),
    (TimeUnit::Days, "D"),
    (TimeUnit::Hours, "h"),
    (TimeUnit::Minutes, "m"),
    (TimeUnit::Seconds, "s"),
    (TimeUnit::Milliseconds, "ms"),
    (TimeUnit::Microseconds, "us"),
    (TimeUnit::Nanoseconds, "ns"),
    (TimeUnit::Picoseconds, "ps"),
    (TimeUnit::Femtoseconds, "fs"),
    (TimeUnit::Attoseconds, "as"),
    (TimeUnit::Generic, "generic"),
];

impl TimeUnit {
    /// numpy's code: `'ns'`, `'D'`, `'generic'`.
    pub fn code(self) -> &'static str {
        UNITS.iter().find(|(u, _)| *u == self).map(|(_, c)| *c).expect("every unit has a code")
    }

    fn from_code(code: &[u8]) -> Option<TimeUnit> {
        UNITS.iter().find(|(_, c)| c.as_bytes() == code).map(|(u, _)| *u)
    }
}

/// A datetime unit: `count` times `base` (`25s`); the generic unit has a count of 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Unit {
    base: TimeUnit,
    count: u32,
}

impl Unit {
    /// `count` times `base`: `count` from 1 to `i32::MAX`, and 1 for the generic unit.
    pub fn new(base: TimeUnit, count: u32) -> Result<Unit> {
        Unit::checked(base, i64::from(count)).map_err(Error::custom)
    }

    /// The one rule of units, for building and for loading.
    fn checked(base: TimeUnit, count: i64) -> std::result::Result<Unit, String> {
        let fits = (1..=i64::from(i32::MAX)).contains(&count) && (base != TimeUnit::Generic || count == 1);
        let unit = u32::try_from(count).ok().filter(|_| fits).map(|count| Unit { base, count });
        unit.ok_or_else(|| format!("no datetime unit {count} times {}", base.code()))
    }

    /// The base.
    pub fn base(&self) -> TimeUnit {
        self.base
    }

    /// How many of the base.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// The unit of `[25s]`, `[ns]` (what follows the size in `dtype.str`), or the generic
    /// unit of nothing.
    pub(super) fn from_brackets(text: &str) -> Option<Unit> {
        if text.is_empty() {
            return Some(Unit { base: TimeUnit::Generic, count: 1 });
        }
        let inner = text.strip_prefix('[')?.strip_suffix(']')?;
        let digits = inner.bytes().take_while(u8::is_ascii_digit).count();
        let count = if digits == 0 { 1 } else { inner[..digits].parse::<i64>().ok()? };
        Unit::checked(TimeUnit::from_code(&inner.as_bytes()[digits..])?, count).ok()
    }

    /// `[25s]`, `[ns]`, or nothing for the generic unit, as `dtype.str` ends.
    pub(super) fn brackets(&self) -> String {
        match (self.base, self.count) {
            (TimeUnit::Generic, _) => String::new(),
            (base, 1) => format!("[{}]", base.code()),
            (base, n) => format!("[{n}{}]", base.code()),
        }
    }
}

/// The 9th item of a datetime dtype's state: `({}, (b'unit', count, 1, 1))`.
pub(super) type UnitState = (BTreeMap<i64, i64>, (Bytes<&'static [u8]>, u32, i64, i64));

pub(super) fn unit_state(unit: Unit) -> UnitState {
    (BTreeMap::new(), (Bytes(unit.base.code().as_bytes()), unit.count, 1, 1))
}

/// The unit of the state item `(metadata, (unit, count[, 1, 1]))`; metadata must be empty,
/// as [`Dtype`](super::Dtype) has none, and numpy 1.6's denominator 1.
pub(super) fn read_unit_state(item: &Node<'_>) -> Result<Unit> {
    let mut parts = item.items().ok_or_else(|| item.mismatch("a datetime unit tuple"))?;
    let (Some(metadata), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(item.error("a datetime unit state of the wrong length"));
    };
    if metadata.pairs().is_none_or(|mut p| p.next().is_some()) {
        return Err(metadata.error("numpy dtype metadata is not supported"));
    }
    let mut fields = unit.items().ok_or_else(|| unit.mismatch("a datetime unit tuple"))?;
    let base = fields.next().ok_or_else(|| unit.error("an empty datetime unit"))?;
    let base = TimeUnit::from_code(&packed_bytes(&base)?).ok_or_else(|| base.error("no such datetime unit"))?;
    let count = fields.next().map_or(Ok(1), |n| n.get::<i64>())?;
    if fields.next().is_some_and(|den| den.as_i64() != Some(1)) {
        return Err(unit.error("a datetime unit with a denominator is not supported"));
    }
    Unit::checked(base, count).map_err(|e| unit.error(e))
}
