use thiserror::Error;

/// Why a value could not be built. The message is written for the person who
/// typed the value (a coordinator editing a network file, an API caller), so it
/// quotes the value and says what would be accepted: in English (the API, the
/// CLI) and in Japanese (the web app's forms).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct ParseError {
    pub message: String,
    pub message_ja: String,
}

impl ParseError {
    pub fn new(en: impl Into<String>, ja: impl Into<String>) -> Self {
        Self {
            message: en.into(),
            message_ja: ja.into(),
        }
    }
}
