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
pub fn issue_derived(grant: Grant, key: &[u8], created_by: &str) -> Result<IssuedToken, AppError> {
    let id = format!("fd{}", hex(&random(8)));
    let secret = derived_secret(key, &id);
    issue_with(grant, EMAIL_FEED_LABEL, created_by, id, secret)
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
