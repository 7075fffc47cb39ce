//! A serde [`Deserializer`] adapter that makes decoding safe on hostile bytes.
//!
//! bincode is not self-describing and has no recursion limit, so a crafted
//! body nesting `LayerConfig::Sequential` (or `SchedulerState::SequentialLr`)
//! a million deep would overflow the stack, which aborts the process instead
//! of returning an error. bincode's own allocation limit is a compile-time
//! constant, so it cannot follow the real size of each file.
//!
//! [`Limited`] wraps the format's deserializer (and, recursively, every
//! visitor, sequence, map and enum access it hands out) to:
//! - count nesting and fail past [`MAX_DEPTH`] levels;
//! - ask the format for *borrowed* strings and byte buffers
//!   (`deserialize_str` / `deserialize_bytes`) even where the type asked for
//!   owned ones: over a slice, bincode then checks that the declared length is
//!   really present before anything is allocated, so no string or buffer can
//!   be larger than the input. Sequences and maps are safe already: serde
//!   caps their preallocation ("cautious" size hints) and grows them only as
//!   elements are really decoded.

use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor};
use std::fmt;

/// The deepest nesting of sequences, maps, enums, options and newtypes a
/// checkpoint body may have. Real bodies use under 10 levels plus 3 per nested
/// `Sequential`; 128 levels stay far inside a 2 MiB thread stack.
pub(crate) const MAX_DEPTH: usize = 128;

/// A deserializer that enforces [`MAX_DEPTH`] and borrowed reads (see the module docs).
pub(crate) struct Limited<D> {
    inner: D,
    depth_left: usize,
}

impl<D> Limited<D> {
    /// Wraps a top-level deserializer.
    pub(crate) fn new(inner: D) -> Self {
        Limited {
            inner,
            depth_left: MAX_DEPTH,
        }
    }
}

fn too_deep<E: de::Error>() -> E {
    E::custom(format_args!("nesting deeper than {MAX_DEPTH} levels"))
}

macro_rules! forward_deserialize {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.inner.$method(Vis { inner: visitor, depth_left: self.depth_left })
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Limited<D> {
    type Error = D::Error;

    forward_deserialize!(
        deserialize_any deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
        deserialize_f32 deserialize_f64 deserialize_char deserialize_str deserialize_bytes
        deserialize_option deserialize_unit deserialize_seq deserialize_map deserialize_identifier
        deserialize_ignored_any
    );

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        // Borrowed first: the length is checked against the input before any allocation.
        self.inner.deserialize_str(Vis {
            inner: visitor,
            depth_left: self.depth_left,
        })
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_bytes(Vis {
            inner: visitor,
            depth_left: self.depth_left,
        })
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, D::Error> {
        let depth_left = self.depth_left;
        self.inner.deserialize_unit_struct(
            name,
            Vis {
                inner: visitor,
                depth_left,
            },
        )
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, D::Error> {
        let depth_left = self.depth_left;
        self.inner.deserialize_newtype_struct(
            name,
            Vis {
                inner: visitor,
                depth_left,
            },
        )
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, D::Error> {
        let depth_left = self.depth_left;
        self.inner.deserialize_tuple(
            len,
            Vis {
                inner: visitor,
                depth_left,
            },
        )
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let depth_left = self.depth_left;
        self.inner.deserialize_tuple_struct(
            name,
            len,
            Vis {
                inner: visitor,
                depth_left,
            },
        )
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let depth_left = self.depth_left;
        self.inner.deserialize_struct(
            name,
            fields,
            Vis {
                inner: visitor,
                depth_left,
            },
        )
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let depth_left = self.depth_left;
        self.inner.deserialize_enum(
            name,
            variants,
            Vis {
                inner: visitor,
                depth_left,
            },
        )
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

/// A visitor that passes the depth budget on to whatever it is handed.
struct Vis<V> {
    inner: V,
    depth_left: usize,
}

impl<V> Vis<V> {
    /// The budget one level down, or the error when there is none left.
    fn descend<E: de::Error>(&self) -> Result<usize, E> {
        self.depth_left.checked_sub(1).ok_or_else(too_deep)
    }
}

macro_rules! forward_visit {
    ($($method:ident($ty:ty))*) => {$(
        fn $method<E: de::Error>(self, v: $ty) -> Result<Self::Value, E> {
            self.inner.$method(v)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Vis<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    forward_visit!(
        visit_bool(bool) visit_i8(i8) visit_i16(i16) visit_i32(i32) visit_i64(i64) visit_i128(i128)
        visit_u8(u8) visit_u16(u16) visit_u32(u32) visit_u64(u64) visit_u128(u128)
        visit_f32(f32) visit_f64(f64) visit_char(char)
        visit_str(&str) visit_borrowed_str(&'de str) visit_string(String)
        visit_bytes(&[u8]) visit_borrowed_bytes(&'de [u8]) visit_byte_buf(Vec<u8>)
    );

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.inner.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.inner.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        let depth_left = self.descend()?;
        self.inner.visit_some(Limited { inner: d, depth_left })
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        let depth_left = self.descend()?;
        self.inner.visit_newtype_struct(Limited { inner: d, depth_left })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        let depth_left = self.descend()?;
        self.inner.visit_seq(Seq { inner: seq, depth_left })
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let depth_left = self.descend()?;
        self.inner.visit_map(Map { inner: map, depth_left })
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        let depth_left = self.descend()?;
        self.inner.visit_enum(Enum {
            inner: data,
            depth_left,
        })
    }
}

/// A seed whose deserializer is wrapped in [`Limited`].
struct Seed<S> {
    inner: S,
    depth_left: usize,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Seed<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.inner.deserialize(Limited {
            inner: d,
            depth_left: self.depth_left,
        })
    }
}

struct Seq<A> {
    inner: A,
    depth_left: usize,
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Seq<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, A::Error> {
        self.inner.next_element_seed(Seed {
            inner: seed,
            depth_left: self.depth_left,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

struct Map<A> {
    inner: A,
    depth_left: usize,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Map<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        self.inner.next_key_seed(Seed {
            inner: seed,
            depth_left: self.depth_left,
        })
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.inner.next_value_seed(Seed {
            inner: seed,
            depth_left: self.depth_left,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

struct Enum<A> {
    inner: A,
    depth_left: usize,
}

impl<'de, A: EnumAccess<'de>> EnumAccess<'de> for Enum<A> {
    type Error = A::Error;
    type Variant = Variant<A::Variant>;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self::Variant), A::Error> {
        let depth_left = self.depth_left;
        let (value, variant) = self.inner.variant_seed(Seed {
            inner: seed,
            depth_left,
        })?;
        Ok((
            value,
            Variant {
                inner: variant,
                depth_left,
            },
        ))
    }
}

struct Variant<A> {
    inner: A,
    depth_left: usize,
}

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for Variant<A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.inner.unit_variant()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        self.inner.newtype_variant_seed(Seed {
            inner: seed,
            depth_left: self.depth_left,
        })
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.inner.tuple_variant(
            len,
            Vis {
                inner: visitor,
                depth_left: self.depth_left,
            },
        )
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.inner.struct_variant(
            fields,
            Vis {
                inner: visitor,
                depth_left: self.depth_left,
            },
        )
    }
}
