//! Contact details. Patients are given the phone numbers of the person on call,
//! so a number that cannot be dialled is as bad as a missing one.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

use crate::ParseError;

/// An e-mail address, checked with the `email_address` crate (RFC 5321/5322
/// syntax) plus the rule that it has a dotted domain, since a message to
/// `user@localhost` would never reach a nurse.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let trimmed = s.trim();
        if trimmed.is_empty() {
            return Err(ParseError::new(
                "e-mail address is empty",
                "メールアドレスが空です",
            ));
        }
        let addr = email_address::EmailAddress::from_str(trimmed).map_err(|e| {
            ParseError::new(
                format!("\"{s}\" is not an e-mail address ({e})"),
                format!("「{s}」はメールアドレスではありません（{e}）"),
            )
        })?;
        if !addr.domain().contains('.') || addr.domain().ends_with('.') {
            return Err(ParseError::new(
                format!(
                    "\"{s}\" is not an e-mail address (domain \"{}\" has no dot)",
                    addr.domain()
                ),
                format!(
                    "「{s}」はメールアドレスではありません（ドメイン「{}」に「.」がありません）",
                    addr.domain()
                ),
            ));
        }
        Ok(Self(trimmed.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// A phone number as written in Japan (`0260-22-2121`, `090-1234-5678`) or in
/// international form (`+81-260-22-2121`). Kept as written, because that is how
/// it is printed for patients; only its shape is checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let t = s.trim();
        let body = t.strip_prefix('+').unwrap_or(t);
        if let Some(bad) = body
            .chars()
            .find(|c| !(c.is_ascii_digit() || *c == '-' || *c == ' '))
        {
            return Err(ParseError::new(
                format!("\"{s}\" is not a phone number ('{bad}' is not a digit or '-')"),
                format!(
                    "「{s}」は電話番号ではありません（「{bad}」は数字でも「-」でもありません）"
                ),
            ));
        }
        let digits = body.chars().filter(char::is_ascii_digit).count();
        if !(10..=15).contains(&digits) {
            return Err(ParseError::new(
                format!(
                    "\"{s}\" is not a phone number (it has {digits} digits; a Japanese number has 10 or 11)"
                ),
                format!(
                    "「{s}」は電話番号ではありません（{digits} 桁です。国内の番号は 10 桁か 11 桁です）"
                ),
            ));
        }
        Ok(Self(t.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Phone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn emails() {
        assert!(Email::parse("sato.h@anan-hospital.example.jp").is_ok());
        for bad in [
            "",
            "sato",
            "sato@",
            "@example.jp",
            "sato@localhost",
            "a b@example.jp",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
        let e = Email::parse("sato@").unwrap_err();
        assert!(
            e.message.contains("\"sato@\" is not an e-mail address"),
            "{e}"
        );
    }

    #[test]
    fn phones() {
        for ok in [
            "0260-22-2121",
            "090-1234-5678",
            "+81-260-22-2121",
            "0260222121",
        ] {
            assert!(Phone::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "123", "0260-22-212x", "phone"] {
            assert!(Phone::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    proptest! {
        #[test]
        fn generated_addresses_parse(local in "[a-z][a-z0-9._]{0,15}[a-z0-9]", dom in "[a-z]{1,10}") {
            let s = format!("{local}@{dom}.example.jp");
            // Consecutive dots are not allowed in the local part; skip those.
            prop_assume!(!local.contains(".."));
            prop_assert!(Email::parse(&s).is_ok());
        }
        #[test]
        fn strings_without_at_never_parse(s in "[^@]{0,30}") {
            prop_assert!(Email::parse(&s).is_err());
        }
    }
}
