use thiserror::Error;

/// Why a value could not be built. The message is written for the person who
/// typed the value (a coordinator editing a network file, an API caller), so it
/// quotes the value and says what would be accepted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct ParseError(pub String);

impl ParseError {
    pub fn new(msg: impl Into<String>) -> Self {
        Self(msg.into())
    }
}
