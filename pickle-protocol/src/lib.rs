//! The pickle protocol numbers, in one place for both crates that need them: `pickle-core`
//! (the codec, which writes and reads every protocol) and `pickle-derive` (which checks a
//! role's protocol range at compile time and writes one table entry per protocol). A
//! proc-macro crate can export nothing but macros, so the numbers cannot live in either.

#![no_std]

/// The lowest protocol, CPython's protocol 0 (text opcodes).
pub const LOWEST_PROTOCOL: u8 = 0;

/// The highest protocol there is, as CPython 3.8+'s `pickle.HIGHEST_PROTOCOL`.
pub const HIGHEST_PROTOCOL: u8 = 5;

/// The protocol a pickler uses unless told, as CPython 3.8+'s `pickle.DEFAULT_PROTOCOL`.
pub const DEFAULT_PROTOCOL: u8 = 4;

/// How many protocols there are: the length of a table with one entry per protocol.
pub const PROTOCOL_COUNT: usize = HIGHEST_PROTOCOL as usize + 1;
