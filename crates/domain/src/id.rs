//! Identifiers. Every object of a network file is named by a short ASCII slug
//! so that ids survive spreadsheets, URLs and e-mail links unchanged; the
//! Japanese name lives beside it.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::ParseError;

const MAX_ID_LEN: usize = 64;

/// Checks the slug rule shared by all ids: 1–64 characters of `a-z 0-9 - _ .`,
/// starting with a letter or digit.
pub fn check_slug(kind: &str, s: &str) -> Result<(), ParseError> {
    if s.is_empty() {
        return Err(ParseError::new(
            format!("{kind} id is empty"),
            "ID が空です",
        ));
    }
    if s.len() > MAX_ID_LEN {
        return Err(ParseError::new(
            format!("{kind} id \"{s}\" is longer than {MAX_ID_LEN} characters"),
            format!("ID「{s}」が {MAX_ID_LEN} 文字を超えています"),
        ));
    }
    let first = s.as_bytes()[0];
    if !(first.is_ascii_lowercase() || first.is_ascii_digit()) {
        return Err(ParseError::new(
            format!("{kind} id \"{s}\" must start with a lower-case letter or a digit"),
            format!("ID「{s}」は英小文字か数字で始めてください"),
        ));
    }
    if let Some(bad) = s
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.')))
    {
        return Err(ParseError::new(
            format!(
                "{kind} id \"{s}\" contains '{bad}'; use lower-case ASCII letters, digits, '-', '_' or '.'"
            ),
            format!(
                "ID「{s}」に「{bad}」が含まれています：半角の英小文字・数字・「-」「_」「.」だけを使ってください"
            ),
        ));
    }
    Ok(())
}

macro_rules! slug_id {
    ($(#[$meta:meta])* $name:ident, $kind:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn parse(s: &str) -> Result<Self, ParseError> {
                check_slug($kind, s)?;
                Ok(Self(s.to_string()))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = ParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

slug_id!(/// A region (医療連携推進区域).
    RegionId, "region");
slug_id!(/// A municipality (village, town).
    MunicipalityId, "municipality");
slug_id!(/// An institution (clinic, pharmacy, station, hospital, …).
    InstitutionId, "institution");
slug_id!(/// A staff member.
    StaffId, "staff");
slug_id!(/// A coverage service (one duty line).
    ServiceId, "service");
slug_id!(/// A shift template within a service.
    TemplateId, "template");
slug_id!(/// A skill such as `home-visits` or `end-of-life`.
    Skill, "skill");

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_ordinary_slugs() {
        for s in ["anan-hospital", "s01", "a", "x.y_z-1"] {
            assert!(StaffId::parse(s).is_ok(), "{s}");
        }
    }

    #[test]
    fn rejects_bad_slugs_with_reason() {
        let e = StaffId::parse("Tanaka").unwrap_err();
        assert!(e.message.contains("must start with a lower-case"), "{e}");
        let e = StaffId::parse("a b").unwrap_err();
        assert!(e.message.contains("contains ' '"), "{e}");
        assert!(StaffId::parse("").is_err());
        assert!(StaffId::parse("-x").is_err());
        assert!(StaffId::parse("田中").is_err());
        assert!(StaffId::parse(&"a".repeat(65)).is_err());
    }

    #[test]
    fn deserialize_validates() {
        let ok: Result<ServiceId, _> = serde_json::from_str("\"night-pharmacy\"");
        assert!(ok.is_ok());
        let bad: Result<ServiceId, _> = serde_json::from_str("\"Night Pharmacy\"");
        assert!(bad.is_err());
    }

    proptest! {
        #[test]
        fn valid_slugs_round_trip(s in "[a-z0-9][a-z0-9._-]{0,63}") {
            let id = InstitutionId::parse(&s).unwrap();
            prop_assert_eq!(id.as_str(), s.as_str());
        }

        #[test]
        fn anything_with_upper_case_is_rejected(s in "[a-z0-9]{0,10}[A-Z][a-zA-Z0-9]{0,10}") {
            prop_assert!(InstitutionId::parse(&s).is_err());
        }
    }
}
