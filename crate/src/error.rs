//! One error type for the whole library. Every message names the thing that is wrong and its
//! value, so a person reading it in the browser console knows what to change.

use std::fmt;

/// Everything that can go wrong in convscope. Nothing in the library panics on bad input:
/// each public entry point validates and returns one of these instead.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// A tensor's shape is wrong for the operation (rank, sizes, data length).
    Shape(String),
    /// A parameter (stride, padding, dilation, groups, …) has a value the operation cannot use.
    Param {
        name: &'static str,
        value: String,
        reason: String,
    },
    /// A weights file is unreadable or does not match the architecture.
    Weights(String),
    /// A data file (MNIST IDX, a drawing) is malformed.
    Data(String),
}

impl Error {
    /// A parameter error: `param("stride", 0, "must be at least 1")`.
    pub fn param(name: &'static str, value: impl fmt::Debug, reason: impl Into<String>) -> Self {
        Error::Param {
            name,
            value: format!("{value:?}"),
            reason: reason.into(),
        }
    }

    pub fn shape(msg: impl Into<String>) -> Self {
        Error::Shape(msg.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Shape(m) => write!(f, "shape error: {m}"),
            Error::Param {
                name,
                value,
                reason,
            } => write!(f, "invalid {name} = {value}: {reason}"),
            Error::Weights(m) => write!(f, "weights error: {m}"),
            Error::Data(m) => write!(f, "data error: {m}"),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;
