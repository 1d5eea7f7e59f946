//! Tokens: API and feed credentials (argon2-hashed secrets), the feed
//! token linked from e-mails, and random bytes.

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHasher, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::Sha256;
use touban_store::{Grant, NewCredential};

use crate::AppError;

/// A freshly made token: the text to hand over once, and what to store.
#[derive(Debug)]
pub struct IssuedToken {
    pub token: String,
    pub credential: NewCredential,
}

fn random(n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    OsRng.fill_bytes(&mut b);
    b
}

pub fn random_bytes(n: usize) -> Vec<u8> {
    random(n)
}

/// Makes a token for `grant`. Feed tokens start with `fd`, API tokens with `tk`.
pub fn issue(grant: Grant, label: &str, created_by: &str) -> Result<IssuedToken, AppError> {
    let prefix = if grant.is_feed() { "fd" } else { "tk" };
    let id = format!("{prefix}{}", hex(&random(8)));
    let secret = URL_SAFE_NO_PAD.encode(random(32));
    issue_with(grant, label, created_by, id, secret)
}

/// The label of the feed credential made for e-mails (see [`derived_secret`]).
pub const EMAIL_FEED_LABEL: &str = "calendar feed linked from e-mails";

/// The secret of a feed credential whose token the notifier can put in
/// every e-mail without storing it: HMAC-SHA256 of the credential id under
/// the server's link key. Stored hashed like any other; revoking the
/// credential ends it, and the next e-mail makes a new one.
pub fn derived_secret(key: &[u8], id: &str) -> String {
    use hmac::Mac;
    let mut m = hmac::Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    m.update(format!("feed:{id}").as_bytes());
    URL_SAFE_NO_PAD.encode(m.finalize().into_bytes())
}

/// A feed token for `grant` whose secret is [`derived_secret`].
///
/// Its secret is a 256-bit HMAC, not something a person chose, so it is
/// stored as a plain SHA-256 ([`FAST_HASH`]) rather than argon2: guessing
/// 256 bits is out of reach however fast the hash, and argon2's deliberate
/// slowness (tens of milliseconds each) made the first e-mail to each of
/// 2,000 people cost a minute of CPU.
pub fn issue_derived(grant: Grant, key: &[u8], created_by: &str) -> Result<IssuedToken, AppError> {
    let id = format!("fd{}", hex(&random(8)));
    let secret = derived_secret(key, &id);
    Ok(IssuedToken {
        token: format!("{id}.{secret}"),
        credential: NewCredential {
            id,
            secret_hash: fast_hash(&secret),
            grant,
            label: EMAIL_FEED_LABEL.to_string(),
            created_by: created_by.to_string(),
        },
    })
}

/// The prefix of a stored hash that is a SHA-256 of a high-entropy secret
/// (the rest is argon2's PHC string).
pub const FAST_HASH: &str = "$sha256$";

fn fast_hash(secret: &str) -> String {
    use sha2::Digest;
    format!(
        "{FAST_HASH}{}",
        URL_SAFE_NO_PAD.encode(Sha256::digest(secret.as_bytes()))
    )
}

/// Whether `secret` matches a stored [`FAST_HASH`] hash (in constant time).
pub fn fast_hash_matches(stored: &str, secret: &str) -> bool {
    let want = fast_hash(secret);
    stored.len() == want.len()
        && stored
            .bytes()
            .zip(want.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

fn issue_with(
    grant: Grant,
    label: &str,
    created_by: &str,
    id: String,
    secret: String,
) -> Result<IssuedToken, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    let hash = Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map_err(|e| AppError::Internal(format!("hashing a token: {e}")))?
        .to_string();
    Ok(IssuedToken {
        token: format!("{id}.{secret}"),
        credential: NewCredential {
            id,
            secret_hash: hash,
            grant,
            label: label.to_string(),
            created_by: created_by.to_string(),
        },
    })
}

pub fn hex(b: &[u8]) -> String {
    use std::fmt::Write;
    b.iter()
        .fold(String::with_capacity(b.len() * 2), |mut s, x| {
            let _ = write!(s, "{x:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e_mail_feed_tokens_are_stored_as_sha256_and_check_only_their_secret() {
        let region = touban_domain::RegionId::parse("r").unwrap();
        let staff = touban_domain::StaffId::parse("s").unwrap();
        let t = issue_derived(Grant::StaffFeed { region, staff }, b"key", "t").unwrap();
        let (id, secret) = t.token.split_once('.').unwrap();
        assert_eq!(id, t.credential.id);
        assert_eq!(secret, derived_secret(b"key", id));
        let stored = &t.credential.secret_hash;
        assert!(stored.starts_with(FAST_HASH) && !stored.contains(secret));
        assert!(fast_hash_matches(stored, secret));
        assert!(!fast_hash_matches(
            stored,
            &derived_secret(b"other key", id)
        ));
        assert!(!fast_hash_matches(stored, ""));
        // Tokens handed to people keep argon2.
        let api = issue(Grant::Admin, "a", "t").unwrap();
        assert!(api.credential.secret_hash.starts_with("$argon2id$"));
    }
}
