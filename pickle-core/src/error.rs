//! The one error type of the crate.

use std::fmt;

use crate::opcode::Opcode;

/// Everything that can go wrong while pickling or unpickling.
///
/// An `Error` carries an [`ErrorKind`], and where it is known the byte offset in the pickle
/// and the opcode being read or written. It is one pointer wide, so `Result<T, Error>` stays
/// small on the hot paths.
pub struct Error(Box<Inner>);

struct Inner {
    kind: ErrorKind,
    offset: Option<u64>,
    opcode: Option<Opcode>,
    /// Where in a Rust value the error is, while reconstructing: `Line.start.x`.
    path: Path,
    /// Whether `offset` counts bytes written (pickling) rather than read.
    written: bool,
}

/// The place of an error in the Rust value being reconstructed, built from the inside out.
#[derive(Default)]
struct Path {
    /// The segments, outermost first: `Line`, `.start`, `.x` or `[3]`.
    segments: Vec<String>,
    /// Whether the first segment is a type name, which an enclosing field replaces.
    starts_with_type: bool,
}

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The object cannot be pickled (CPython's `PicklingError`), with CPython's wording.
    #[error("{0}")]
    Pickling(String),
    /// A size that the chosen protocol cannot carry (CPython's `OverflowError`).
    #[error("{0}")]
    Overflow(String),
    /// A protocol outside `0..=5`, asked for or found in a PROTO opcode.
    #[error("unsupported pickle protocol: {0}")]
    UnsupportedProtocol(u8),
    /// The input ends before the pickle does: `true` where an opcode was expected (CPython's
    /// `EOFError` "Ran out of input"), `false` inside an opcode's argument ("pickle data
    /// was truncated").
    #[error("{}", if *.0 { "Ran out of input" } else { "pickle data was truncated" })]
    Truncated(bool),
    /// A byte that is no opcode (CPython: "invalid load key").
    #[error("invalid load key, {}.", load_key(*.0))]
    InvalidOpcode(u8),
    /// An opcode needed more stack items than there were.
    #[error("unpickling stack underflow")]
    StackUnderflow,
    /// An opcode that consumes up to a MARK found none.
    #[error("could not find MARK")]
    MarkNotFound,
    /// A memo GET of an index nothing was PUT at.
    #[error("Memo value not found at index {0}")]
    MemoNotFound(u64),
    /// Malformed data an opcode cannot use (CPython's `UnpicklingError` and friends), in
    /// CPython's wording where it has one.
    #[error("{0}")]
    Unpickling(String),
    /// A limit of [`UnpicklerOptions`](crate::UnpicklerOptions) was exceeded.
    #[error("{what} exceeds the limit of {limit}")]
    LimitExceeded {
        /// What was counted, such as "nesting depth".
        what: &'static str,
        /// The configured limit.
        limit: u64,
    },
    /// `loads` found bytes after the pickle's STOP.
    #[error("{0} bytes of data after the pickle's STOP opcode")]
    TrailingData(u64),
    /// Nesting deeper than the configured limit (CPython's `RecursionError`).
    #[error("maximum recursion depth {0} exceeded while pickling an object")]
    RecursionLimit(usize),
    /// A loaded object is not what the Rust type it is loaded into expects.
    #[error("expected {expected}, found {found}")]
    Mismatch {
        /// What the Rust type accepts, such as "int" or "`shapes.Point`".
        expected: String,
        /// What the pickle holds, such as "str" or "`shapes.Circle`".
        found: String,
    },
    /// A loaded object has the right type but cannot become the Rust value: a missing or
    /// unknown attribute, an integer out of range, a cycle through an `Rc`.
    #[error("{0}")]
    Reconstruct(String),
    /// GLOBAL, INST or STACK_GLOBAL names an empty `"module"` or `"name"`, which no class
    /// has: CPython 3.11 refuses the line forms and fails to import the other, 3.12 refuses
    /// all three.
    #[error("a global with an empty {0}")]
    EmptyGlobalName(&'static str),
    /// The class policy does not allow this global (CPython's "global 'os.system' is
    /// forbidden" of a restricting `find_class`).
    #[error("global '{0}' is forbidden by the class policy")]
    Forbidden(String),
    /// A `Reduce` implementation or a hook reported an error of its own.
    #[error("{0}")]
    Custom(String),
    /// The underlying reader or writer failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    /// An error of this kind, with no position yet.
    pub fn new(kind: ErrorKind) -> Error {
        Error(Box::new(Inner { kind, offset: None, opcode: None, path: Path::default(), written: false }))
    }

    /// CPython's `PicklingError` with this message.
    pub fn pickling(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Pickling(message.into()))
    }

    /// CPython's `OverflowError` with this message.
    pub fn overflow(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Overflow(message.into()))
    }

    /// An error raised by user code (a `Reduce` implementation, a hook).
    pub fn custom(message: impl fmt::Display) -> Error {
        Error::new(ErrorKind::Custom(message.to_string()))
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    /// Where it went wrong, where known: the byte offset in the pickle being read, or, for
    /// an error while pickling, how many bytes had been written.
    pub fn offset(&self) -> Option<u64> {
        self.0.offset
    }

    /// Records how many bytes had been written when pickling failed, unless an inner frame
    /// already did.
    pub(crate) fn after_written(mut self, written: u64) -> Error {
        if self.0.offset.is_none() {
            self.0.offset = Some(written);
            self.0.written = true;
        }
        self
    }

    /// The opcode being read or written when it went wrong, where known.
    pub fn opcode(&self) -> Option<Opcode> {
        self.0.opcode
    }

    /// Records the byte offset, unless an inner frame already did.
    pub fn at_offset(mut self, offset: u64) -> Error {
        self.0.offset.get_or_insert(offset);
        self
    }

    /// Records the opcode, unless an inner frame already did.
    pub fn at_opcode(mut self, opcode: Opcode) -> Error {
        self.0.opcode.get_or_insert(opcode);
        self
    }

    /// The place in the Rust value where reconstruction failed, such as `Line.start.x`, or
    /// `None` when the error is not about one.
    pub fn path(&self) -> Option<String> {
        let segments = &self.0.path.segments;
        (!segments.is_empty()).then(|| segments.concat())
    }

    /// Records that the error happened in field `field` of the Rust type `ty`.
    pub fn in_field(mut self, ty: &str, field: &str) -> Error {
        let path = &mut self.0.path;
        if path.starts_with_type {
            path.segments.remove(0);
        }
        path.segments.splice(0..0, [ty.to_owned(), format!(".{field}")]);
        path.starts_with_type = true;
        self
    }

    /// Records that the error happened in item `index` of a sequence.
    pub fn at_index(mut self, index: usize) -> Error {
        let path = &mut self.0.path;
        if path.starts_with_type {
            path.segments.remove(0);
        }
        path.segments.insert(0, format!("[{index}]"));
        path.starts_with_type = false;
        self
    }

    /// Records that the error happened in the value of key `key` of a map.
    pub fn at_key(self, key: impl fmt::Display) -> Error {
        let mut error = self.at_index(0);
        error.0.path.segments[0] = format!("[{key}]");
        error
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(path) = self.path() {
            write!(f, "`{path}`: ")?;
        }
        write!(f, "{}", self.0.kind)?;
        if let (Some(offset), true) = (self.0.offset, self.0.written) {
            return write!(f, " (after {offset} bytes of output)");
        }
        match (self.0.offset, self.0.opcode) {
            (Some(offset), Some(opcode)) => write!(f, " (at byte {offset}, opcode {opcode})"),
            (Some(offset), None) => write!(f, " (at byte {offset})"),
            (None, Some(opcode)) => write!(f, " (opcode {opcode})"),
            (None, None) => Ok(()),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.0.kind)
            .field("offset", &self.0.offset)
            .field("opcode", &self.0.opcode)
            .field("path", &self.path())
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0.kind {
            ErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        Error::new(ErrorKind::Io(e))
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Error {
        Error::new(kind)
    }
}

/// CPython's rendering of a bad opcode byte: the character, or its `\x` escape.
fn load_key(byte: u8) -> String {
    if byte.is_ascii_graphic() || byte == b' ' {
        format!("'{}'", byte as char)
    } else {
        format!("'\\x{byte:02x}'")
    }
}

impl Error {
    /// CPython's `UnpicklingError` with this message.
    pub fn unpickling(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Unpickling(message.into()))
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_position_and_opcode() {
        let e = Error::pickling("can't pickle").at_offset(7).at_opcode(Opcode::Binput).at_offset(9);
        assert_eq!(e.to_string(), "can't pickle (at byte 7, opcode BINPUT)");
        assert_eq!(std::mem::size_of::<Result<()>>(), std::mem::size_of::<usize>());
    }

    #[test]
    fn paths_grow_from_the_inside_out() {
        let kind = ErrorKind::Mismatch { expected: "int".into(), found: "str".into() };
        let e = Error::new(kind).at_offset(41).in_field("Point", "x").at_index(3).in_field("Line", "points");
        assert_eq!(e.to_string(), "`Line.points[3].x`: expected int, found str (at byte 41)");
        assert_eq!(e.path().as_deref(), Some("Line.points[3].x"));
        let e = Error::custom("no").at_key("'a'").in_field("Config", "env");
        assert_eq!(e.to_string(), "`Config.env['a']`: no");
    }
}
