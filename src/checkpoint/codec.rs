//! The body codec: bincode 2 through serde. The only file that names bincode,
//! so that a successor (wincode, postcard) replaces this module alone.
//!
//! Decoding always goes through [`super::limit::Limited`], which bounds nesting
//! depth and allocations by the input's real size.

use super::limit::Limited;
use serde::Serialize;
use serde::de::{DeserializeOwned, DeserializeSeed, Deserializer};
use std::marker::PhantomData;

/// Little-endian, variable-length integers; floats are stored as their exact bits.
fn config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// Encodes `value`. Fails only for types serde cannot express in a
/// non-self-describing format (none of the crate's checkpoint types).
pub(crate) fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, String> {
    bincode::serde::encode_to_vec(value, config()).map_err(|e| e.to_string())
}

/// Deserializes a `T` through the [`Limited`] adapter.
struct LimitedSeed<T>(PhantomData<T>);

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for LimitedSeed<T> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        T::deserialize(Limited::new(d))
    }
}

/// Decodes a `T` from the start of `bytes`; returns it and the number of bytes used.
pub(crate) fn decode_prefix<T: DeserializeOwned>(bytes: &[u8]) -> Result<(T, usize), String> {
    bincode::serde::seed_decode_from_slice(LimitedSeed::<T>(PhantomData), bytes, config()).map_err(|e| e.to_string())
}

/// Decodes a `T` that must fill `bytes` exactly.
pub(crate) fn decode_exact<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let (value, used) = decode_prefix(bytes)?;
    if used != bytes.len() {
        return Err(format!(
            "{} unexpected trailing byte(s) after the encoded value ({used} of {} used)",
            bytes.len() - used,
            bytes.len()
        ));
    }
    Ok(value)
}
