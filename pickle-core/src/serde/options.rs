//! The options of the serde bridge, named and meaning as serde-pickle's do, so that moving
//! from serde-pickle is a change of path.

use crate::ser::DEFAULT_PROTOCOL;

/// How [`to_vec`](super::to_vec) and [`to_writer`](super::to_writer) write: serde-pickle's
/// `SerOptions`, plus the protocol, which is [`DEFAULT_PROTOCOL`] (4) unless set.
#[derive(Clone, Debug)]
pub struct SerOptions {
    pub(crate) protocol: u8,
    pub(crate) compat_enum_repr: bool,
}

impl Default for SerOptions {
    fn default() -> SerOptions {
        SerOptions { protocol: DEFAULT_PROTOCOL, compat_enum_repr: false }
    }
}

impl SerOptions {
    /// The defaults: protocol 4, serde's standard enum representation.
    pub fn new() -> SerOptions {
        SerOptions::default()
    }

    /// Writes this protocol, `0..=5` (a higher one is an error when writing).
    pub fn protocol(mut self, protocol: u8) -> SerOptions {
        self.protocol = protocol;
        self
    }

    /// Writes protocol 2, as serde-pickle's `proto_v2` does.
    pub fn proto_v2(self) -> SerOptions {
        self.protocol(2)
    }

    /// Writes enums as serde-pickle did up to 0.6: `('Variant',)`, `('Variant', value)`,
    /// `('Variant', [values])`, `('Variant', {fields})`, rather than `'Variant'` and
    /// `{'Variant': ...}`. Loading takes both.
    pub fn compat_enum_repr(mut self) -> SerOptions {
        self.compat_enum_repr = true;
        self
    }
}

/// How [`from_slice`](super::from_slice) and [`from_reader`](super::from_reader) read:
/// serde-pickle's `DeOptions`.
#[derive(Clone, Debug, Default)]
pub struct DeOptions {
    pub(crate) decode_strings: bool,
    pub(crate) keep_restore_state: bool,
    pub(crate) replace_unresolved_globals: bool,
    pub(crate) replace_recursive_structures: bool,
}

impl DeOptions {
    /// The defaults: Python 2 strs load as bytes, a class instance loads as its state (an
    /// empty dict when it has none), globals and recursive structures are errors.
    pub fn new() -> DeOptions {
        DeOptions::default()
    }

    /// Python 2 strs (STRING, BINSTRING, SHORT_BINSTRING) load as UTF-8 strings, not bytes.
    pub fn decode_strings(mut self) -> DeOptions {
        self.decode_strings = true;
        self
    }

    /// A class instance without state loads as its constructor's arguments (a tuple), not
    /// an empty dict.
    pub fn keep_restore_state(mut self) -> DeOptions {
        self.keep_restore_state = true;
        self
    }

    /// A global (a class or function named by the pickle) loads as `None`, not an error.
    pub fn replace_unresolved_globals(mut self) -> DeOptions {
        self.replace_unresolved_globals = true;
        self
    }

    /// An object met again inside itself (a list that contains itself) loads as `None`,
    /// not an error.
    pub fn replace_recursive_structures(mut self) -> DeOptions {
        self.replace_recursive_structures = true;
        self
    }
}
