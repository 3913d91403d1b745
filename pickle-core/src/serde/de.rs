//! `serde::Deserializer` over the graph pickle-core's unpickler builds: the pickle is read
//! once by the one decoding engine (limits, memo, Python 2 strings, `set`/`bytes` reductions
//! and all), and serde's visitors read its [`Node`]s, which know the byte offset of the
//! opcode that made each object: every error, serde's own included, points into the pickle.
//!
//! | Python | serde |
//! |---|---|
//! | `None`, `bool`, `int`, `float` | unit (and `Option::None`), bool, integers, floats |
//! | `str` | str (borrowed from the graph) |
//! | `bytes`, `bytearray`, Python 2 `str` | bytes (Python 2 strs as UTF-8 str with `decode_strings`) |
//! | `list`, `tuple`, `set`, `frozenset` | sequence |
//! | `dict` | map |
//! | class instance | its state, as serde-pickle reads it (see [`DeOptions`]) |
//! | `'V'`, `{'V': v}`, `('V',)`, `('V', v)` | enum variant `V` |

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

use super::DeOptions;
use crate::error::{Error, ErrorKind, Result};
use crate::reconstruct::{Items, Kind, Node, Pairs};

/// What the deserializers of one load share: the options and the objects being read, to
/// know a recursive structure.
pub(crate) struct Context<'o> {
    options: &'o DeOptions,
    ancestors: Vec<u32>,
    /// How many more values may be read. An object the pickle shares is read again each
    /// time it is reached (serde has no sharing), so a few bytes of memo GETs could ask
    /// for exponentially many values: the budget keeps the work in proportion to the input.
    budget: u64,
    limit: u64,
}

/// Values read per byte of pickle: every value costs a byte or more to write, so only
/// objects reached many times through shared references come near it.
const VALUES_PER_BYTE: u64 = 16;

impl<'o> Context<'o> {
    /// The context of a load of a pickle of `length` bytes.
    pub(crate) fn new(options: &'o DeOptions, length: u64) -> Context<'o> {
        let limit = length.saturating_mul(VALUES_PER_BYTE).max(1 << 16);
        Context { options, ancestors: Vec::new(), budget: limit, limit }
    }

    fn spend(&mut self, node: &Node<'_>) -> Result<()> {
        match self.budget.checked_sub(1) {
            Some(left) => {
                self.budget = left;
                Ok(())
            }
            None => {
                let (what, limit) = ("values read (shared objects are read each time)", self.limit);
                Err(node.at(Error::new(ErrorKind::LimitExceeded { what, limit })))
            }
        }
    }
}

/// One node of the graph, to be read by a serde visitor.
pub(crate) struct NodeDeserializer<'a, 'c, 'o> {
    pub(crate) node: Node<'a>,
    pub(crate) context: &'c mut Context<'o>,
}

impl<'a, 'o> NodeDeserializer<'a, '_, 'o> {
    fn child(&mut self, node: Node<'a>) -> NodeDeserializer<'a, '_, 'o> {
        NodeDeserializer { node, context: &mut *self.context }
    }

    /// Runs `read` on this node as an object on the path being read: within the depth
    /// limit, on a stack that grows, refusing (or with `replace_recursive_structures`,
    /// reading as `None`) an object met inside itself; errors get the node's offset.
    fn enter<V: Visitor<'a>>(
        mut self,
        visitor: V,
        read: impl FnOnce(&mut Self, V) -> Result<V::Value>,
    ) -> Result<V::Value> {
        let node = self.node;
        node.within_depth()?;
        self.context.spend(&node)?;
        let container =
            matches!(node.kind(), Kind::Tuple | Kind::List | Kind::Dict | Kind::Set | Kind::FrozenSet | Kind::Object);
        let Some(index) = node.object_index().filter(|_| container) else {
            return read(&mut self, visitor).map_err(|e| node.at(e));
        };
        if self.context.ancestors.contains(&index) {
            return match self.context.options.replace_recursive_structures {
                true => visitor.visit_unit(),
                false => Err(node.error("a recursive structure (an object that contains itself)")),
            };
        }
        self.context.ancestors.push(index);
        let result = crate::stack::grow(|| read(&mut self, visitor));
        self.context.ancestors.pop();
        result.map_err(|e| node.at(e))
    }

    /// Whether the node is `None`, or what the options replace by `None`.
    fn reads_as_none(&self) -> bool {
        let options = self.context.options;
        match self.node.kind() {
            Kind::None => true,
            Kind::Global => options.replace_unresolved_globals,
            _ => {
                options.replace_recursive_structures
                    && self.node.object_index().is_some_and(|i| self.context.ancestors.contains(&i))
            }
        }
    }

    fn any<V: Visitor<'a>>(&mut self, visitor: V) -> Result<V::Value> {
        let node = self.node;
        match node.kind() {
            Kind::None => visitor.visit_unit(),
            Kind::Bool => visitor.visit_bool(node.as_bool().unwrap_or_default()),
            Kind::Int => self.int(visitor),
            Kind::Float => visitor.visit_f64(node.as_f64().unwrap_or_default()),
            Kind::Str => match node.as_str().and_then(|s| s.as_str()) {
                Some(s) => visitor.visit_borrowed_str(s),
                None => Err(node.mismatch("a str without lone surrogates")),
            },
            Kind::Bytes => visitor.visit_borrowed_bytes(node.as_bytes().unwrap_or_default()),
            Kind::ByteArray => visitor.visit_borrowed_bytes(node.as_bytearray().unwrap_or_default()),
            Kind::Tuple | Kind::List | Kind::Set | Kind::FrozenSet => self.seq(node.items(), visitor),
            Kind::Dict => self.map(node.pairs(), visitor),
            Kind::Object => self.instance(visitor),
            Kind::Global if self.context.options.replace_unresolved_globals => visitor.visit_unit(),
            _ => Err(node.mismatch("data (a global or persistent id cannot be deserialized)")),
        }
    }

    fn int<V: Visitor<'a>>(&mut self, visitor: V) -> Result<V::Value> {
        if let Some(i) = self.node.as_i64() {
            return visitor.visit_i64(i);
        }
        let big = self.node.as_bigint().unwrap_or_default();
        if let Ok(u) = u64::try_from(&*big) {
            visitor.visit_u64(u)
        } else if let Ok(i) = i128::try_from(&*big) {
            visitor.visit_i128(i)
        } else if let Ok(u) = u128::try_from(&*big) {
            visitor.visit_u128(u)
        } else {
            Err(self.node.error("integer too large"))
        }
    }

    fn seq<V: Visitor<'a>>(&mut self, items: Option<Items<'a>>, visitor: V) -> Result<V::Value> {
        let mut access = SeqAccess { items: items.ok_or_else(|| self.node.mismatch("a sequence"))?, de: self };
        let value = visitor.visit_seq(&mut access)?;
        match access.items.len() {
            0 => Ok(value),
            left => Err(de::Error::invalid_length(left, &"fewer elements")),
        }
    }

    fn map<V: Visitor<'a>>(&mut self, pairs: Option<Pairs<'a>>, visitor: V) -> Result<V::Value> {
        let pairs = pairs.ok_or_else(|| self.node.mismatch("a dict"))?;
        visitor.visit_map(MapAccess { pairs, value: None, de: self })
    }

    /// A class instance, as serde-pickle reads it: its state when it has one; else its
    /// arguments with `keep_restore_state`, an empty dict without.
    fn instance<V: Visitor<'a>>(&mut self, visitor: V) -> Result<V::Value> {
        let instance = self.node.instance().ok_or_else(|| self.node.mismatch("an object"))?;
        match instance.state() {
            Some(state) => de::Deserializer::deserialize_any(self.child(state), visitor),
            None if self.context.options.keep_restore_state => self.seq(Some(instance.args()), visitor),
            None => visitor.visit_map(de::value::MapDeserializer::new(std::iter::empty::<((), ())>())),
        }
    }

    /// `'V'`, `{'V': content}` or `('V',)`, `('V', content)`.
    fn variant<V: Visitor<'a>>(&mut self, visitor: V) -> Result<V::Value> {
        let node = self.node;
        let (variant, content) = match node.kind() {
            Kind::Str => (node, None),
            Kind::Dict => match node.pairs().map(|mut p| (p.len(), p.next())) {
                Some((1, Some((variant, content)))) => (variant, Some(content)),
                _ => return Err(node.mismatch("an enum variant (a dict of one entry)")),
            },
            Kind::Tuple => match node.items().map(|mut i| (i.len(), i.next(), i.next())) {
                Some((1 | 2, Some(variant), content)) => (variant, content),
                _ => return Err(node.mismatch("an enum variant (a tuple of one or two items)")),
            },
            _ => return Err(node.mismatch("an enum variant")),
        };
        visitor.visit_enum(EnumAccess { variant, content, de: self })
    }
}

impl<'de> de::Deserializer<'de> for NodeDeserializer<'de, '_, '_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.enter(visitor, |de, visitor| de.any(visitor))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.reads_as_none() {
            true => visitor.visit_none(),
            false => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        self.enter(visitor, |de, visitor| de.variant(visitor))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct identifier
    }
}

struct SeqAccess<'d, 'a, 'c, 'o> {
    de: &'d mut NodeDeserializer<'a, 'c, 'o>,
    items: Items<'a>,
}

impl<'a> de::SeqAccess<'a> for SeqAccess<'_, 'a, '_, '_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'a>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        match self.items.next() {
            Some(item) => seed.deserialize(self.de.child(item)).map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct MapAccess<'d, 'a, 'c, 'o> {
    de: &'d mut NodeDeserializer<'a, 'c, 'o>,
    pairs: Pairs<'a>,
    value: Option<Node<'a>>,
}

impl<'a> de::MapAccess<'a> for MapAccess<'_, 'a, '_, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'a>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        let Some((key, value)) = self.pairs.next() else { return Ok(None) };
        self.value = Some(value);
        seed.deserialize(self.de.child(key)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'a>>(&mut self, seed: V) -> Result<V::Value> {
        let value =
            self.value.take().ok_or_else(|| Error::new(ErrorKind::Reconstruct("a value without a key".into())))?;
        seed.deserialize(self.de.child(value))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.pairs.len())
    }
}

struct EnumAccess<'d, 'a, 'c, 'o> {
    de: &'d mut NodeDeserializer<'a, 'c, 'o>,
    variant: Node<'a>,
    content: Option<Node<'a>>,
}

impl<'d, 'a, 'c, 'o> de::EnumAccess<'a> for EnumAccess<'d, 'a, 'c, 'o> {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'a>>(self, seed: V) -> Result<(V::Value, Self)> {
        let variant = seed.deserialize(self.de.child(self.variant))?;
        Ok((variant, self))
    }
}

impl<'a> de::VariantAccess<'a> for EnumAccess<'_, 'a, '_, '_> {
    type Error = Error;

    fn unit_variant(self) -> Result<()> {
        match self.content {
            Some(content) => <() as de::Deserialize>::deserialize(self.de.child(content)),
            None => Ok(()),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'a>>(self, seed: T) -> Result<T::Value> {
        match self.content {
            Some(content) => seed.deserialize(self.de.child(content)),
            None => seed.deserialize(IntoDeserializer::<Error>::into_deserializer(())),
        }
    }

    fn tuple_variant<V: Visitor<'a>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        self.content_any(visitor)
    }

    fn struct_variant<V: Visitor<'a>>(self, _fields: &'static [&'static str], visitor: V) -> Result<V::Value> {
        self.content_any(visitor)
    }
}

impl<'a> EnumAccess<'_, 'a, '_, '_> {
    fn content_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        match self.content {
            Some(content) => de::Deserializer::deserialize_any(self.de.child(content), visitor),
            None => Err(self.variant.mismatch("an enum variant with data")),
        }
    }
}

impl de::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Error {
        Error::new(ErrorKind::Reconstruct(msg.to_string()))
    }
}
