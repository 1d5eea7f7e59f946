//! Problems found in a network file, each with its file, line and field.

use std::fmt;

/// One thing wrong with a network file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: usize,
    /// What the problem is in, e.g. `staff "sato-h"` or `services[2]`.
    pub entry: String,
    pub field: Option<String>,
    pub message: String,
    /// The same message in Japanese, for the web app's forms and reports.
    pub message_ja: String,
}

/// A message in both languages, as every problem is reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    pub en: String,
    pub ja: String,
}

/// A message in English and Japanese.
pub fn msg(en: impl Into<String>, ja: impl Into<String>) -> Msg {
    Msg {
        en: en.into(),
        ja: ja.into(),
    }
}

impl Msg {
    /// The message after a prefix in each language (`item 2: …`).
    #[must_use]
    pub fn after(self, en: &str, ja: &str) -> Self {
        msg(format!("{en}: {}", self.en), format!("{ja}：{}", self.ja))
    }
}

impl From<touban_domain::ParseError> for Msg {
    fn from(e: touban_domain::ParseError) -> Self {
        msg(e.message, e.message_ja)
    }
}

impl Problem {
    /// The message in the reader's language (`"ja"` or `"en"`).
    pub fn message_in(&self, lang: &str) -> &str {
        if lang == "en" {
            &self.message
        } else {
            &self.message_ja
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.entry)?;
        if let Some(field) = &self.field {
            write!(f, ", field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// All the problems of one file, in the order they were found.
#[derive(Debug, Clone, Default)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn iter(&self) -> impl Iterator<Item = &Problem> {
        self.0.iter()
    }
    /// Sorted by line so that a reader can walk the file top to bottom.
    pub fn sorted(mut self) -> Self {
        self.0.sort_by_key(|p| p.line);
        self
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.0 {
            writeln!(f, "{p}")?;
        }
        write!(
            f,
            "{} problem{} found",
            self.0.len(),
            if self.0.len() == 1 { "" } else { "s" }
        )
    }
}

impl std::error::Error for Problems {}
