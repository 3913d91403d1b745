//! The 68 pickle opcodes, as one table.
//!
//! [`OPCODES`] is generated from CPython's `pickletools.opcodes` (see `tools/gen_opcodes.py`)
//! and is the single description of the format in this crate: the encoder writes code bytes
//! through [`Opcode`], the decoder dispatches on [`Opcode::from_byte`] and reads arguments by
//! [`ArgKind`], and the disassembler prints [`OpcodeInfo::name`] and [`OpcodeInfo::doc`].

#[macro_use]
mod table;

pub use table::OPCODES;

/// CPython's `_BATCHSIZE`: how many items its pickler puts in one MARK batch of APPENDS,
/// SETITEMS or ADDITEMS (pairs, for SETITEMS). The pickler writes batches of this size; the
/// decoders' fast paths expect a batch of one only after full batches.
pub(crate) const BATCH_SIZE: usize = 1000;

macro_rules! define_opcode_enum {
    ($($name:ident = $code:literal,)*) => {
        /// A pickle opcode; its discriminant is the byte that encodes it.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Opcode {
            $(
                #[allow(missing_docs)]
                $name = $code,
            )*
        }

        impl Opcode {
            /// The opcode a byte encodes, or `None` for a byte that is no opcode.
            #[inline]
            pub const fn from_byte(byte: u8) -> Option<Opcode> {
                OPCODE_BY_BYTE[byte as usize]
            }
        }

        /// Every byte's opcode, for the decoder's dispatch: one load instead of a match.
        static OPCODE_BY_BYTE: [Option<Opcode>; 256] = {
            let mut table = [None; 256];
            $(table[$code as usize] = Some(Opcode::$name);)*
            table
        };
    };
}

for_each_opcode!(define_opcode_enum);

/// Index into [`OPCODES`] by code byte; `u8::MAX` where the byte is no opcode.
static INDEX_BY_CODE: [u8; 256] = {
    let mut index = [u8::MAX; 256];
    let mut i = 0;
    while i < OPCODES.len() {
        index[OPCODES[i].code as usize] = i as u8;
        i += 1;
    }
    index
};

/// The protocol of each code byte's opcode: the decoder looks it up for every opcode.
static PROTO_BY_CODE: [u8; 256] = {
    let mut proto = [0; 256];
    let mut i = 0;
    while i < OPCODES.len() {
        proto[OPCODES[i].code as usize] = OPCODES[i].proto;
        i += 1;
    }
    proto
};

impl Opcode {
    /// The byte that encodes this opcode.
    #[inline]
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// This opcode's row of the table.
    pub fn info(self) -> &'static OpcodeInfo {
        &OPCODES[INDEX_BY_CODE[self as usize] as usize]
    }

    /// The name `pickletools` gives it, such as `SHORT_BINUNICODE`.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// The protocol that introduced it.
    #[inline]
    pub fn proto(self) -> u8 {
        PROTO_BY_CODE[self as usize]
    }
}

impl std::fmt::Display for Opcode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One opcode as `pickletools` documents it.
#[derive(Debug)]
pub struct OpcodeInfo {
    /// The opcode.
    pub opcode: Opcode,
    /// Its `pickletools` name.
    pub name: &'static str,
    /// The byte that encodes it.
    pub code: u8,
    /// The protocol that introduced it.
    pub proto: u8,
    /// How its inline argument is encoded.
    pub arg: ArgKind,
    /// What it expects on top of the stack, bottom first.
    pub stack_before: &'static [StackItem],
    /// What it leaves there instead, bottom first.
    pub stack_after: &'static [StackItem],
    /// The first line of its `pickletools` documentation, which `pickletools.dis` annotates with.
    pub doc: &'static str,
}

/// How an opcode's inline argument is encoded (`pickletools`' argument descriptors).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    /// No argument.
    None,
    /// One unsigned byte.
    Uint1,
    /// Two-byte little-endian unsigned integer.
    Uint2,
    /// Four-byte little-endian signed integer.
    Int4,
    /// Four-byte little-endian unsigned integer.
    Uint4,
    /// Eight-byte little-endian unsigned integer.
    Uint8,
    /// A Python `repr`-quoted string ending in a newline.
    Stringnl,
    /// A newline-terminated string, no quotes or escapes.
    StringnlNoescape,
    /// Two newline-terminated strings (module and name of a global).
    StringnlNoescapePair,
    /// One-byte length, then that many bytes of a Python 2 `str`.
    String1,
    /// Four-byte signed length, then that many bytes of a Python 2 `str`.
    String4,
    /// One-byte length, then bytes.
    Bytes1,
    /// Four-byte length, then bytes.
    Bytes4,
    /// Eight-byte length, then bytes.
    Bytes8,
    /// Eight-byte length, then the bytes of a bytearray.
    Bytearray8,
    /// Raw-unicode-escape text ending in a newline.
    Unicodestringnl,
    /// One-byte length, then UTF-8.
    Unicodestring1,
    /// Four-byte length, then UTF-8.
    Unicodestring4,
    /// Eight-byte length, then UTF-8.
    Unicodestring8,
    /// A decimal integer ending in a newline (`I00`/`I01` are the booleans).
    DecimalnlShort,
    /// A decimal integer with a trailing `L`, ending in a newline.
    DecimalnlLong,
    /// A float in `repr` form ending in a newline.
    Floatnl,
    /// Eight-byte big-endian IEEE 754 double.
    Float8,
    /// One-byte length, then a little-endian two's-complement integer.
    Long1,
    /// Four-byte signed length, then a little-endian two's-complement integer.
    Long4,
}

impl ArgKind {
    /// The argument's size when it is fixed, or the size of its length prefix.
    pub const fn prefix_len(self) -> usize {
        match self {
            ArgKind::None => 0,
            ArgKind::Uint1 | ArgKind::String1 | ArgKind::Bytes1 | ArgKind::Unicodestring1 | ArgKind::Long1 => 1,
            ArgKind::Uint2 => 2,
            ArgKind::Int4
            | ArgKind::Uint4
            | ArgKind::String4
            | ArgKind::Bytes4
            | ArgKind::Unicodestring4
            | ArgKind::Long4 => 4,
            ArgKind::Uint8 | ArgKind::Float8 | ArgKind::Bytes8 | ArgKind::Bytearray8 | ArgKind::Unicodestring8 => 8,
            ArgKind::Stringnl
            | ArgKind::StringnlNoescape
            | ArgKind::StringnlNoescapePair
            | ArgKind::Unicodestringnl
            | ArgKind::DecimalnlShort
            | ArgKind::DecimalnlLong
            | ArgKind::Floatnl => 0,
        }
    }

    /// Whether the argument is text ending in a newline (the kinds with neither a fixed
    /// size nor a length prefix).
    pub const fn is_line(self) -> bool {
        self.prefix_len() == 0 && !matches!(self, ArgKind::None)
    }
}

/// What an opcode takes from or leaves on the unpickler's stack (`pickletools`' stack objects).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum StackItem {
    Any,
    /// The MARK object.
    Mark,
    /// Everything above the topmost MARK.
    StackSlice,
    None,
    Bool,
    Int,
    IntOrBool,
    Float,
    Str,
    Bytes,
    BytesOrStr,
    ByteArray,
    Buffer,
    Tuple,
    List,
    Dict,
    Set,
    FrozenSet,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_byte_maps_back_to_its_row() {
        assert_eq!(OPCODES.len(), 68);
        for info in OPCODES.iter() {
            assert_eq!(Opcode::from_byte(info.code), Some(info.opcode));
            assert_eq!(info.opcode.info().name, info.name);
            assert_eq!(info.opcode.code(), info.code);
        }
        let defined = (0..=255u8).filter(|b| Opcode::from_byte(*b).is_some()).count();
        assert_eq!(defined, 68);
    }
}
