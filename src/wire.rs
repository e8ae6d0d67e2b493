//! The one wire format of messages between processes (MPI): serde values
//! as postcard bytes.
//!
//! Owns encoding and decoding and their error. Must not know what is sent
//! or to whom: `experiment` decides which rank runs what and gathers it,
//! `cluster` moves the bytes.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Why a message could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// The value could not be encoded.
    #[error("a message between processes could not be encoded: {0}")]
    Encode(postcard::Error),
    /// The bytes received are not a message of the expected type.
    #[error("a message between processes could not be read: {0}")]
    Decode(postcard::Error),
    /// A process sent fewer results than it was given to run.
    #[error("replicate {index} is missing from process {rank}'s results")]
    Missing {
        /// The replicate.
        index: usize,
        /// The process that ran it.
        rank: usize,
    },
}

/// `value` as bytes.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, WireError> {
    postcard::to_stdvec(value).map_err(WireError::Encode)
}

/// The value `bytes` encode.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, WireError> {
    postcard::from_bytes(bytes).map_err(WireError::Decode)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_cross_the_wire_unchanged_and_garbage_is_refused() {
        let v: Vec<(u64, Vec<f64>, String)> = vec![(7, vec![0.1, f64::MAX, -0.0], "camp".into())];
        let back: Vec<(u64, Vec<f64>, String)> = decode(&encode(&v).unwrap()).unwrap();
        assert_eq!(back[0].0, 7);
        assert_eq!(back[0].1[1].to_bits(), f64::MAX.to_bits());
        assert_eq!(back[0].1[2].to_bits(), (-0.0f64).to_bits());
        assert!(matches!(decode::<Vec<String>>(&[200, 1]), Err(WireError::Decode(_))));
    }
}
