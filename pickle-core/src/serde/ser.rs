//! `serde::Serializer` into pickle-core's pickler: each value serde hands over is written on
//! the spot by the pickler's own writers (atoms, strs, bytes, interned names) and its push
//! path for containers ([`Shape`]), so the bytes are CPython's for the equivalent Python
//! object, memo and framing included, with no intermediate value.
//!
//! | serde | Python |
//! |---|---|
//! | bool, integers, floats | `bool`, `int`, `float` |
//! | `char`, `str` | `str` |
//! | bytes (`serde_bytes`) | `bytes` |
//! | unit, unit struct, `None` | `None` |
//! | `Some(v)`, newtype struct | `v` |
//! | sequence | `list` |
//! | tuple, tuple struct | `tuple` |
//! | map | `dict` |
//! | struct | `dict` keyed by the field names (interned, as attribute names are) |
//! | enum variant `V` | `'V'`, `{'V': v}`, `{'V': [v1, v2]}`, `{'V': {fields}}`, or with `compat_enum_repr` `('V',)`, `('V', v)`, `('V', [..])`, `('V', {..})` |

use serde::ser::{self, Serialize};

use super::SerOptions;
use crate::error::{Error, Result};
use crate::reduce::{Bytes, StaticName};
use crate::ser::{Pushed, Saver, Shape};

/// The pickler and what the serializer needs besides.
pub(crate) struct State<'a, 'w> {
    saver: &'a mut Saver<'w>,
    compat_enums: bool,
    /// The length of the next container, found by counting its items: serde did not say it.
    counted: Option<usize>,
    /// Set when a container of unknown length was met (and nothing of it written).
    uncounted: bool,
}

impl<'a, 'w> State<'a, 'w> {
    pub(crate) fn new(saver: &'a mut Saver<'w>, options: &SerOptions) -> State<'a, 'w> {
        State { saver, compat_enums: options.compat_enum_repr, counted: None, uncounted: false }
    }

    /// Writes one value. A container whose length serde does not give (a `flatten`ed
    /// struct, an iterator without an exact size) is first counted, by serializing it
    /// into [`Counter`], then written: the C pickler's batching depends on the length.
    #[inline]
    pub(crate) fn save<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        crate::stack::grow_every_few(self.saver.depth(), || match value.serialize(&mut *self) {
            Err(_) if std::mem::take(&mut self.uncounted) => {
                self.counted = Some(value.serialize(Counter)?);
                value.serialize(&mut *self)
            }
            done => done,
        })
    }

    fn name(&mut self, name: &'static str) -> Result<()> {
        self.saver.save(&StaticName(name))
    }

    fn length(&mut self, len: Option<usize>) -> Result<usize> {
        match len.or_else(|| self.counted.take()) {
            Some(len) => Ok(len),
            None => {
                self.uncounted = true;
                Err(Error::pickling("a container of unknown length, to be counted"))
            }
        }
    }

    /// Opens `shape` of `len` items for a compound, with its enum variant wrapper first.
    fn compound(&mut self, variant: Option<&'static str>, shape: Shape, len: usize) -> Result<Compound<'_, 'a, 'w>> {
        let outer = match variant {
            Some(variant) => Some(self.open_variant(variant)?),
            None => None,
        };
        let inner = self.saver.open(shape, len)?;
        Ok(Compound { state: self, inner, outer })
    }

    /// `{'V': ` (or `('V', `), before the variant's value.
    fn open_variant(&mut self, variant: &'static str) -> Result<Pushed> {
        let mut outer = match self.compat_enums {
            true => self.saver.open(Shape::Tuple, 2)?,
            false => self.saver.open(Shape::Dict, 1)?,
        };
        self.saver.before_item(&mut outer)?;
        self.name(variant)?;
        if self.compat_enums {
            self.saver.after_item(&mut outer);
            self.saver.before_item(&mut outer)?;
        }
        Ok(outer)
    }

    /// `}` (or `)`), after the variant's value.
    fn close_variant(&mut self, mut outer: Pushed) -> Result<()> {
        self.saver.after_item(&mut outer);
        self.saver.close(outer)
    }

    #[inline]
    fn item<T: Serialize + ?Sized>(&mut self, pushed: &mut Pushed, value: &T) -> Result<()> {
        self.saver.before_item(pushed)?;
        self.save(value)?;
        self.saver.after_item(pushed);
        Ok(())
    }
}

/// A container being written, and the enum variant dict or tuple around it.
pub(crate) struct Compound<'s, 'a, 'w> {
    state: &'s mut State<'a, 'w>,
    inner: Pushed,
    outer: Option<Pushed>,
}

impl Compound<'_, '_, '_> {
    #[inline]
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.state.item(&mut self.inner, value)
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<()> {
        self.state.saver.before_item(&mut self.inner)?;
        self.state.name(key)?;
        self.state.save(value)?;
        self.state.saver.after_item(&mut self.inner);
        Ok(())
    }

    fn end(self) -> Result<()> {
        self.state.saver.close(self.inner)?;
        match self.outer {
            Some(outer) => self.state.close_variant(outer),
            None => Ok(()),
        }
    }
}

impl<'s, 'a, 'w> ser::Serializer for &'s mut State<'a, 'w> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'s, 'a, 'w>;
    type SerializeTuple = Compound<'s, 'a, 'w>;
    type SerializeTupleStruct = Compound<'s, 'a, 'w>;
    type SerializeTupleVariant = Compound<'s, 'a, 'w>;
    type SerializeMap = Compound<'s, 'a, 'w>;
    type SerializeStruct = Compound<'s, 'a, 'w>;
    type SerializeStructVariant = Compound<'s, 'a, 'w>;

    #[inline]
    fn serialize_bool(self, v: bool) -> Result<()> {
        self.saver.save(&v)
    }
    #[inline]
    fn serialize_i8(self, v: i8) -> Result<()> {
        self.saver.save(&v)
    }
    #[inline]
    fn serialize_i16(self, v: i16) -> Result<()> {
        self.saver.save(&v)
    }
    #[inline]
    fn serialize_i32(self, v: i32) -> Result<()> {
        self.saver.save(&v)
    }
    #[inline]
    fn serialize_i64(self, v: i64) -> Result<()> {
        self.saver.save(&v)
    }
    #[inline]
    fn serialize_i128(self, v: i128) -> Result<()> {
        self.saver.save(&v)
    }
    #[inline]
    fn serialize_u8(self, v: u8) -> Result<()> {
        self.saver.save(&v)
    }
    #[inline]
    fn serialize_u16(self, v: u16) -> Result<()> {
        self.saver.save(&v)
    }
    #[inline]
    fn serialize_u32(self, v: u32) -> Result<()> {
        self.saver.save(&v)
    }
    #[inline]
    fn serialize_u64(self, v: u64) -> Result<()> {
        self.saver.save(&v)
    }
    #[inline]
    fn serialize_u128(self, v: u128) -> Result<()> {
        self.saver.save(&v)
    }
    #[inline]
    fn serialize_f32(self, v: f32) -> Result<()> {
        self.saver.save(&f64::from(v))
    }
    #[inline]
    fn serialize_f64(self, v: f64) -> Result<()> {
        self.saver.save(&v)
    }
    #[inline]
    fn serialize_char(self, v: char) -> Result<()> {
        self.saver.save(v.encode_utf8(&mut [0; 4]) as &str)
    }
    #[inline]
    fn serialize_str(self, v: &str) -> Result<()> {
        self.saver.save(v)
    }
    #[inline]
    fn serialize_bytes(self, v: &[u8]) -> Result<()> {
        self.saver.save(&Bytes(v))
    }
    #[inline]
    fn serialize_none(self) -> Result<()> {
        self.saver.save(&None::<bool>)
    }
    #[inline]
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<()> {
        value.serialize(self)
    }
    #[inline]
    fn serialize_unit(self) -> Result<()> {
        self.serialize_none()
    }
    #[inline]
    fn serialize_unit_struct(self, _name: &'static str) -> Result<()> {
        self.serialize_none()
    }
    #[inline]
    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result<()> {
        if !self.compat_enums {
            return self.name(variant);
        }
        let mut tuple = self.saver.open(Shape::Tuple, 1)?;
        self.saver.before_item(&mut tuple)?;
        self.name(variant)?;
        self.close_variant(tuple)
    }
    #[inline]
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> Result<()> {
        value.serialize(self)
    }
    #[inline]
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<()> {
        let outer = self.open_variant(variant)?;
        self.save(value)?;
        self.close_variant(outer)
    }
    #[inline]
    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq> {
        let len = self.length(len)?;
        self.compound(None, Shape::List, len)
    }
    #[inline]
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple> {
        self.compound(None, Shape::Tuple, len)
    }
    #[inline]
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Self::SerializeTupleStruct> {
        self.compound(None, Shape::Tuple, len)
    }
    #[inline]
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        self.compound(Some(variant), Shape::List, len)
    }
    #[inline]
    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap> {
        let len = self.length(len)?;
        self.compound(None, Shape::Dict, len)
    }
    #[inline]
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Self::SerializeStruct> {
        self.compound(None, Shape::Dict, len)
    }
    #[inline]
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        self.compound(Some(variant), Shape::Dict, len)
    }
}

impl ser::SerializeSeq for Compound<'_, '_, '_> {
    type Ok = ();
    type Error = Error;
    #[inline]
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.element(value)
    }
    #[inline]
    fn end(self) -> Result<()> {
        Compound::end(self)
    }
}

impl ser::SerializeTuple for Compound<'_, '_, '_> {
    type Ok = ();
    type Error = Error;
    #[inline]
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.element(value)
    }
    #[inline]
    fn end(self) -> Result<()> {
        Compound::end(self)
    }
}

impl ser::SerializeTupleStruct for Compound<'_, '_, '_> {
    type Ok = ();
    type Error = Error;
    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.element(value)
    }
    #[inline]
    fn end(self) -> Result<()> {
        Compound::end(self)
    }
}

impl ser::SerializeTupleVariant for Compound<'_, '_, '_> {
    type Ok = ();
    type Error = Error;
    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.element(value)
    }
    #[inline]
    fn end(self) -> Result<()> {
        Compound::end(self)
    }
}

impl ser::SerializeMap for Compound<'_, '_, '_> {
    type Ok = ();
    type Error = Error;
    #[inline]
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        self.state.saver.before_item(&mut self.inner)?;
        self.state.save(key)
    }
    #[inline]
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.state.save(value)?;
        self.state.saver.after_item(&mut self.inner);
        Ok(())
    }
    #[inline]
    fn end(self) -> Result<()> {
        Compound::end(self)
    }
}

impl ser::SerializeStruct for Compound<'_, '_, '_> {
    type Ok = ();
    type Error = Error;
    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<()> {
        self.field(key, value)
    }
    #[inline]
    fn end(self) -> Result<()> {
        Compound::end(self)
    }
}

impl ser::SerializeStructVariant for Compound<'_, '_, '_> {
    type Ok = ();
    type Error = Error;
    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<()> {
        self.field(key, value)
    }
    #[inline]
    fn end(self) -> Result<()> {
        Compound::end(self)
    }
}

impl ser::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Error {
        Error::pickling(msg.to_string())
    }
}

/// The error for a value that serialized as a container of unknown length, and then as
/// something else when it was serialized again to be counted.
fn reshaped() -> Error {
    Error::pickling("a value changed its shape between two serializations")
}

/// Counts the items of a sequence or map whose length serde does not give, writing nothing.
struct Counter;

/// The items counted so far.
struct Count(usize);

macro_rules! not_a_container {
    ($($method:ident($($arg:ty),*);)*) => {$(
        fn $method(self, $(_: $arg),*) -> Result<usize> {
            Err(reshaped())
        }
    )*};
}

impl ser::Serializer for Counter {
    type Ok = usize;
    type Error = Error;
    type SerializeSeq = Count;
    type SerializeTuple = ser::Impossible<usize, Error>;
    type SerializeTupleStruct = ser::Impossible<usize, Error>;
    type SerializeTupleVariant = ser::Impossible<usize, Error>;
    type SerializeMap = Count;
    type SerializeStruct = ser::Impossible<usize, Error>;
    type SerializeStructVariant = ser::Impossible<usize, Error>;

    not_a_container! {
        serialize_bool(bool); serialize_i8(i8); serialize_i16(i16); serialize_i32(i32);
        serialize_i64(i64); serialize_u8(u8); serialize_u16(u16); serialize_u32(u32);
        serialize_u64(u64); serialize_f32(f32); serialize_f64(f64); serialize_char(char);
        serialize_str(&str); serialize_bytes(&[u8]); serialize_none(); serialize_unit();
        serialize_unit_struct(&'static str); serialize_unit_variant(&'static str, u32, &'static str);
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<usize> {
        value.serialize(self)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result<usize> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<usize> {
        Err(reshaped())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Count> {
        Ok(Count(0))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Count> {
        Ok(Count(0))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple> {
        Err(reshaped())
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct> {
        Err(reshaped())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(reshaped())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct> {
        Err(reshaped())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(reshaped())
    }
}

impl ser::SerializeSeq for Count {
    type Ok = usize;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, _: &T) -> Result<()> {
        self.0 += 1;
        Ok(())
    }
    fn end(self) -> Result<usize> {
        Ok(self.0)
    }
}

impl ser::SerializeMap for Count {
    type Ok = usize;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, _: &T) -> Result<()> {
        self.0 += 1;
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, _: &T) -> Result<()> {
        Ok(())
    }
    fn end(self) -> Result<usize> {
        Ok(self.0)
    }
}
