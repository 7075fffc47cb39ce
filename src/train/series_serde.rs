//! Serde for series of `f64` that may hold NaN or infinities.
//!
//! JSON has no NaN: `serde_json` writes it as `null` and then cannot read it
//! back into an `f64`, so a history with a diverged loss would not round-trip.
//! Human-readable formats get finite values as numbers and the others as the
//! strings `"NaN"`, `"inf"`, `"-inf"`; binary formats (bincode checkpoints) get
//! plain `f64`s, bit for bit.

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// One value, written as a number or, when not finite, as a string.
struct Value(f64);

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = self.0;
        if !s.is_human_readable() || v.is_finite() {
            s.serialize_f64(v)
        } else if v.is_nan() {
            s.serialize_str("NaN")
        } else if v > 0.0 {
            s.serialize_str("inf")
        } else {
            s.serialize_str("-inf")
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or one of \"NaN\", \"inf\", \"-inf\"")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
                Ok(Value(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
                Ok(Value(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
                Ok(Value(v as f64))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
                // `null`, as other tools write NaN.
                Ok(Value(f64::NAN))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
                match v {
                    "NaN" | "nan" => Ok(Value(f64::NAN)),
                    "inf" | "Infinity" => Ok(Value(f64::INFINITY)),
                    "-inf" | "-Infinity" => Ok(Value(f64::NEG_INFINITY)),
                    other => Err(E::invalid_value(de::Unexpected::Str(other), &self)),
                }
            }
        }
        if d.is_human_readable() {
            d.deserialize_any(V)
        } else {
            f64::deserialize(d).map(Value)
        }
    }
}

struct SeqRef<'a>(&'a [f64]);

impl Serialize for SeqRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for &v in self.0 {
            seq.serialize_element(&Value(v))?;
        }
        seq.end()
    }
}

struct SeqOwned(Vec<f64>);

impl<'de> Deserialize<'de> for SeqOwned {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<SeqOwned, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SeqOwned;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence of numbers")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<SeqOwned, A::Error> {
                // The size hint comes from the input; cap it so a hostile length
                // cannot reserve unbounded memory before the elements are read.
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
                while let Some(Value(v)) = seq.next_element()? {
                    out.push(v);
                }
                Ok(SeqOwned(out))
            }
        }
        d.deserialize_seq(V)
    }
}

/// `#[serde(with = "series")]` for `Vec<f64>`.
pub(crate) mod series {
    use super::*;

    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        SeqRef(v).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        SeqOwned::deserialize(d).map(|s| s.0)
    }
}

/// `#[serde(with = "series_map")]` for `BTreeMap<String, Vec<f64>>`.
pub(crate) mod series_map {
    use super::*;

    pub fn serialize<S: Serializer>(m: &BTreeMap<String, Vec<f64>>, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(m.len()))?;
        for (k, v) in m {
            map.serialize_entry(k, &SeqRef(v))?;
        }
        map.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Vec<f64>>, D::Error> {
        let raw = BTreeMap::<String, SeqOwned>::deserialize(d)?;
        Ok(raw.into_iter().map(|(k, v)| (k, v.0)).collect())
    }
}
